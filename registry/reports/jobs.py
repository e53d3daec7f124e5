"""Background work of the reports domain."""
from registry.core import jobs
from registry.extensions import db


@jobs.task()
def refresh_cells() -> None:
    """Rebuild the cached statistics cells and commit them."""
    from registry.reports import statistics

    statistics.rebuild_cells()
    db.session.commit()
