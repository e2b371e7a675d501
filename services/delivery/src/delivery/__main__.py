from delivery.main import run

run()
