"""Spreadsheet imports: dry run, batch import through the review queue, undo."""


def init_app(app) -> None:
    # models: for migrations; cli: its commands join the registry group on import
    from registry.imports import cli, models, operations, views  # noqa: F401

    app.register_blueprint(views.bp)
    _plug_into_review_queue(operations)


def _plug_into_review_queue(operations) -> None:
    from flask_babel import lazy_gettext as _l

    from registry.intake import operations as intake

    # Replaces intake's own "import" source: ours names the file of each batch.
    intake.register_queue_source("import", operations.pending_batches_count,
                                 operations.pending_batches, label=_l("Import batches"))
