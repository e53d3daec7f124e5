"""Requests of people about their own data: see, correct, withdraw, delete."""
from flask_babel import lazy_gettext as _l


def init_app(app) -> None:
    from registry.intake.operations import register_queue_source
    from registry.rights import models, operations, views  # noqa: F401  (models: migrations)

    app.register_blueprint(views.bp)
    register_queue_source("request", operations.open_requests_count, operations.queue_items,
                          label=_l("Data-subject requests"))
