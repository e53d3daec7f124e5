"""The migrations alone build exactly the schema the models describe, from nothing."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from registry import create_app
from registry.core.schema import _import_models, drop_everything, include_object
from registry.extensions import db
from registry.places.models import FormerCommune, FormerDistrict, Unit


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """Return an app whose database was built by `flask db upgrade` only."""
    import flask_migrate

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": _fresh_database(
        tmp_path_factory.mktemp("migrations"))})
    with app.app_context():
        drop_everything()
        flask_migrate.upgrade()
        _import_models()
        yield app
        db.session.remove()
        db.engine.dispose()


def _fresh_database(folder) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{folder}/migrated.sqlite"
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS test_migrations WITH (FORCE)")
        connection.execute("CREATE DATABASE test_migrations")
    return url.rsplit("/", 1)[0] + "/test_migrations"


def test_migrated_schema_matches_the_models(migrated):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object})
        differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_migrations_load_thanh_hoa_units(migrated):
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 166
    assert db.session.scalar(select(func.count()).select_from(FormerDistrict)) == 26
    assert db.session.scalar(select(func.count()).select_from(FormerCommune)) == 547


def test_name_search_index_exists(migrated):
    if db.engine.dialect.name == "sqlite":
        found = db.session.scalar(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'person_fts'"))
    else:
        found = db.session.scalar(text(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_person_name_words'"))
    assert found == 1
