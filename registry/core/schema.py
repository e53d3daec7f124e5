"""Building the schema from the migrations, for tests, benchmarks and first setup."""
from sqlalchemy import text

from registry.extensions import db


def reset(drop_first: bool = False) -> None:
    """Bring the schema to the newest migration, dropping everything first if asked."""
    import flask_migrate

    if drop_first:
        drop_everything()
    flask_migrate.upgrade()


def drop_everything() -> None:
    """Drop every table of the registry, its search index and the migration stamp."""
    from registry.people import search

    _import_models()
    db.session.remove()
    with db.engine.begin() as connection:
        search.uninstall(connection)
        db.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP FUNCTION IF EXISTS audit_event_is_append_only"))


def load_reference_data() -> None:
    """Load Thanh Hóa's administrative units if they are not there yet."""
    from registry.places import operations

    operations.load_units()


def _import_models() -> None:
    from registry.accounts import models as accounts  # noqa: F401
    from registry.audit import models as audit  # noqa: F401
    from registry.imports import models as imports  # noqa: F401
    from registry.intake import models as intake  # noqa: F401
    from registry.matching import models as matching  # noqa: F401
    from registry.outreach import models as outreach  # noqa: F401
    from registry.people import models as people  # noqa: F401
    from registry.places import models as places  # noqa: F401
    from registry.reports import models as reports  # noqa: F401
    from registry.rights import models as rights  # noqa: F401


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Tell Alembic to leave alone the search index objects created by hand."""
    if type_ == "table" and name and name.startswith("person_fts"):
        return False
    return not (type_ == "index" and name == "ix_person_name_words")
