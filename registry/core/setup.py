"""Wiring shared by every domain: extensions, database, locale, errors, headers."""
import logging
import secrets

from flask import Flask, abort, g, has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from registry.extensions import babel, csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the largest id a PostgreSQL integer column holds
LARGEST_ID = 2**31 - 1


class RecordId(IntegerConverter):
    """An integer in a URL that fits an id column: a longer one is a 404, not a 500."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Initialise extensions and the request-wide behaviour on app."""
    # Set before any blueprint adds its rules: converters are bound then.
    app.url_map.converters["int"] = RecordId
    _configure_logging(app)
    _configure_database(app)
    from registry.core.schema import include_object

    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True,
                     compare_type=True, include_object=include_object)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _configure_limiter(app)
    login_manager.init_app(app)

    from registry.core import errors, jobs, templating

    jobs.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    app.after_request(_finish_transaction)
    app.after_request(_security_headers)
    app.before_request(_make_nonce)
    app.before_request(_refuse_nul_bytes)
    app.teardown_request(_rollback_on_error)


def select_locale() -> str:
    """Return the language chosen in the session, else Vietnamese."""
    chosen = session.get("lang") if has_request_context() else None
    return chosen if chosen in ("vi", "en") else "vi"


def wants_write() -> None:
    """Mark the current request as one that writes, so SQLite locks early."""
    g.writes = True


def keep_changes_on_error() -> None:
    """Commit this request's changes even though it answers with an error."""
    g.keep_changes = True


def _migrations_dir() -> str:
    import os

    from registry import ROOT

    return os.path.join(ROOT, "migrations")


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _configure_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
    # A copy: the settings' dict is shared by every app built in this process.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    if uri.startswith("postgresql"):
        # psycopg prepares a statement run five times, and PostgreSQL may then plan
        # it once for any value: a name search planned without its words picks the
        # wrong index. Plan each search for what it asks.
        connect_args.setdefault("prepare_threshold", None)
    if uri.startswith("sqlite"):
        connect_args.setdefault("timeout", 30)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    db.init_app(app)


def _configure_limiter(app: Flask) -> None:
    if app.config.get("REDIS_URL") and not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    limiter.init_app(app)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself, so that it can choose
    # IMMEDIATE for writers: concurrent writers then wait instead of failing.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A larger page cache and memory-mapped reads keep searches over a million
    # people fast; mmap shares the operating system's cache between workers.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _is_writer() else "BEGIN")


def _is_writer() -> bool:
    if not has_request_context():
        return True
    return request.method not in READ_METHODS or bool(g.get("writes"))


def _make_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def _refuse_nul_bytes() -> None:
    # PostgreSQL refuses NUL in text, and no search needs one. Forms check their
    # own fields and answer with a message beside the field instead.
    if any("\x00" in value for value in request.args.values()):
        abort(400)


def _finish_transaction(response):
    from registry.core import mail

    if response.status_code < 400 or g.get("keep_changes"):
        db.session.commit()
        mail.flush_outbox()
    else:
        db.session.rollback()
        mail.discard_outbox()
    return response


def _rollback_on_error(error) -> None:
    if error is not None:
        db.session.rollback()


def _security_headers(response):
    nonce = g.get("csp_nonce", "")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response

