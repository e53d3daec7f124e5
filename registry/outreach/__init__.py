"""Holiday outreach: occasions, audiences, campaigns, their approval and sending."""


def init_app(app) -> None:
    # models for migrations, cli and sending for their commands and tasks
    from registry.outreach import cli, models, public_views, sending, views  # noqa: F401
    # the audiences' and campaigns' pages add their routes to views.bp
    from registry.outreach import audience_views, campaign_views  # noqa: F401

    app.register_blueprint(views.bp)
    app.register_blueprint(public_views.bp)
