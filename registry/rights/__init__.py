"""Requests of people about their own data: see, correct, withdraw, delete."""


def init_app(app) -> None:
    from registry.rights import models, views  # noqa: F401  (models: for migrations)

    app.register_blueprint(views.bp)
