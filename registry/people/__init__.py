"""The people domain."""


def init_app(app) -> None:
    from registry.people import views

    app.register_blueprint(views.bp)
