"""Shared fixtures: one app and schema per session, clean tables per test."""
import itertools
import os

os.environ["REGISTRY_ENV"] = "testing"  # read by config.py at import

import pytest
from sqlalchemy import text

from registry import create_app
from registry.extensions import db

REFERENCE_TABLES = {"unit", "former_district", "former_commune", "succession",
                    "alembic_version"}
TEST_PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def database_url(tmp_dir) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir}/test.sqlite"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """Return the application with a fresh schema and the reference data loaded."""
    url = database_url(tmp_path_factory.mktemp("db"))
    app = create_app({"REGISTRY_ENV": "testing", "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SERVER_NAME": None})
    with app.app_context():
        from registry.core import schema

        schema.reset(drop_first=True)
        schema.load_reference_data()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(app):
    yield
    with app.app_context():
        db.session.remove()
        _empty_tables()


def _empty_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)
              if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Return a factory that creates a staff account and returns it."""
    from registry.accounts import operations

    def factory(role="officer", areas=(), email=None, **fields):
        with app.app_context():
            user, _ = operations.create_user(
                email or f"{role}{next(_counter)}@example.test", role=role,
                full_name=fields.pop("full_name", f"Test {role.title()}"),
                areas=list(areas), password=TEST_PASSWORD,
            )
            for key, value in fields.items():
                setattr(user, key, value)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture
def login_as(client, app):
    """Return a function that signs client in as a user, two-factor done."""
    from registry.accounts import operations

    def sign_in(user):
        with app.test_request_context():
            markers = operations.session_markers(user)
        with client.session_transaction() as session:
            session.update(markers)
        return client

    return sign_in

