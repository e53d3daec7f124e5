"""Spreadsheet imports: dry run, batch import through the review queue, undo."""


def init_app(app) -> None:
    from registry.imports import models, views  # noqa: F401  (models: for migrations)

    app.register_blueprint(views.bp)
