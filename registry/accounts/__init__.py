"""Staff, roles, areas, sign-in and two-factor authentication."""


def init_app(app) -> None:
    from registry.accounts import views

    app.register_blueprint(views.bp)
