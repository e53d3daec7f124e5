"""Holiday outreach: occasions, audiences, campaigns, their approval and sending."""


def init_app(app) -> None:
    # models for migrations, cli and sending for their commands and tasks
    from registry.outreach import cli, models, public_views, sending, views  # noqa: F401

    app.register_blueprint(views.bp)
    app.register_blueprint(public_views.bp)
