"""The places domain."""


def init_app(app) -> None:
    from registry.places import views

    app.register_blueprint(views.bp)
