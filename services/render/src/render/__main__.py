from render.main import run

run()
