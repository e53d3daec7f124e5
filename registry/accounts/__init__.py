"""Staff, roles, areas, sign-in and two-factor authentication."""


def init_app(app) -> None:
    """Register the pages, the session checks and the commands of accounts."""
    from registry.accounts import access, cli, views

    app.register_blueprint(views.bp)
    access.init_app(app)
    cli.init_app(app)
