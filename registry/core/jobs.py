"""Background jobs with huey: SQLite storage by default, Redis when REDIS_URL is set.

Tasks run inside an application context. In tests (JOBS_IMMEDIATE) they run at
once in the calling process; elsewhere `flask --app wsgi registry worker` runs them.
"""
import functools
import logging
import os

from flask import has_app_context
from huey import RedisHuey, SqliteHuey

log = logging.getLogger(__name__)


def _make_huey():
    from registry import ROOT

    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("registry", url=redis_url)
    path = os.environ.get("HUEY_SQLITE") or os.path.join(ROOT, "instance", "jobs.sqlite")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteHuey("registry", filename=path)


huey = _make_huey()
_worker_app = None
#: tasks enqueued whenever a worker starts, so that work a killed worker left resumes
_at_worker_start = []


def init_app(app) -> None:
    """Run jobs in-process when the app asks for it (tests)."""
    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE"))


def task(**options):
    """Declare a background task that runs with an application context."""
    def decorate(function):
        @functools.wraps(function)
        def in_app(*args, **kwargs):
            if has_app_context():
                return function(*args, **kwargs)
            with _app().app_context():
                return function(*args, **kwargs)

        return huey.task(**options)(in_app)

    return decorate


def _app():
    global _worker_app
    if _worker_app is None:
        from registry import create_app

        _worker_app = create_app()
    return _worker_app


def worker_app_is(app) -> None:
    """Use app for tasks run outside a request (the worker command sets it)."""
    global _worker_app
    _worker_app = app


def at_worker_start(task) -> None:
    """Enqueue task each time `registry worker` starts."""
    _at_worker_start.append(task)


def enqueue_worker_start_tasks() -> None:
    """Enqueue the tasks domains asked for at worker start."""
    for task in _at_worker_start:
        task()
