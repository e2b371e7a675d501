from workflow.main import run

run()
