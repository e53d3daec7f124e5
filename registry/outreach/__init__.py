"""Holiday outreach: the calendar of occasions (campaigns come with the next part)."""


def init_app(app) -> None:
    from registry.outreach import models, views  # noqa: F401  (models: migrations)

    app.register_blueprint(views.bp)
