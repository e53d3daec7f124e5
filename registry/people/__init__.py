"""People abroad: records, search and history."""


def init_app(app) -> None:
    from registry.people import cli, views  # noqa: F401  (cli registers its commands)

    app.register_blueprint(views.bp)
