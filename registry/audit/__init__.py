"""The audit domain."""


def init_app(app) -> None:
    from registry.audit import views

    app.register_blueprint(views.bp)
