"""The `flask --app wsgi registry ...` command group; domains add their commands."""
from flask.cli import AppGroup

registry_cli = AppGroup("registry", help="Registry maintenance commands.")


@registry_cli.command("worker")
def worker() -> None:
    """Run the background job worker (imports, sending) until stopped."""
    from flask import current_app
    from huey.consumer import Consumer

    from registry.core import jobs

    jobs.worker_app_is(current_app._get_current_object())
    jobs.enqueue_worker_start_tasks()
    Consumer(jobs.huey, workers=2, worker_type="thread").run()
