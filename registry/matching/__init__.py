"""Duplicate detection: match keys, scoring, the duplicate queue, merge and undo."""
import importlib
import importlib.util


def init_app(app) -> None:
    # models: for migrations; cli: its commands join the registry group on import
    from registry.matching import cli, models, operations  # noqa: F401
    from registry.people import signals

    operations.listen()
    signals.checking_entry.connect(operations.entry_check)
    signals.entry_confirmed.connect(operations.propose_confirmed)
    signals.people_inserted.connect(operations.on_people_inserted)
    # The review pages are written beside this package; register them once there.
    if importlib.util.find_spec("registry.matching.views") is not None:
        views = importlib.import_module("registry.matching.views")
        app.register_blueprint(views.bp)
