from booking.main import run

run()
