"""Helpers shared by the benchmarks: apps on throw-away databases, timing."""
import os
import resource
import statistics
import sys
import time
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from registry import create_app  # noqa: E402
from registry.extensions import db  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")


def sqlite_url(name: str) -> str:
    os.makedirs(OUT, exist_ok=True)
    return f"sqlite:///{os.path.join(OUT, name)}.sqlite"


def postgres_url(name: str, fresh: bool) -> str:
    """Return the URL of a benchmark database on the local server, made if missing."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                    (name,)).fetchone()
        if exists and fresh:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def make_app(url: str):
    return create_app({"REGISTRY_ENV": "testing", "TESTING": True, "SECRET_KEY": "bench",
                       "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False})


def median_ms(action, runs: int = 20, warmup: int = 2) -> float:
    """Return the median wall time of action in milliseconds."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch(label: str):
    started = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)


__all__ = ["db", "make_app", "median_ms", "peak_memory_mb", "postgres_url", "sqlite_url",
           "stopwatch"]
