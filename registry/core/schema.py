"""Building the schema and loading reference data, for tests and first setup."""
from registry.extensions import db


def reset(drop_first: bool = False) -> None:
    """Create every table (dropping them first if asked), with search indexes."""
    from registry import accounts, audit, people, places  # noqa: F401  (models)
    from registry.accounts import models as _a  # noqa: F401
    from registry.audit import models as _au  # noqa: F401
    from registry.people import models as _p, search
    from registry.places import models as _pl  # noqa: F401

    if drop_first:
        search.uninstall(db.engine)
        db.drop_all()
    db.create_all()
    search.install(db.engine)


def load_reference_data() -> None:
    """Load Thanh Hóa's administrative units if they are not there yet."""
    from registry.places import operations

    operations.load_units()
