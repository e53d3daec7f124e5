"""The migrations build exactly the schema the models describe, from nothing."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from registry.core.schema import include_object
from registry.extensions import db
from registry.places.models import FormerCommune, FormerDistrict, Unit


def test_migrated_schema_matches_the_models(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": include_object})
        differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_migrations_load_thanh_hoa_units(app_ctx):
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 166
    assert db.session.scalar(select(func.count()).select_from(FormerDistrict)) == 26
    assert db.session.scalar(select(func.count()).select_from(FormerCommune)) == 547


def test_name_search_index_exists(app_ctx):
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        found = db.session.scalar(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'person_fts'"))
    else:
        found = db.session.scalar(text(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_person_name_words'"))
    assert found == 1
