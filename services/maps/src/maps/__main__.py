from maps.main import run

run()
