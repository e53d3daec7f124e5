"""Statistics and reports: dashboard, world map, exports, annual report, partner API."""


def init_app(app) -> None:
    # models: for migrations; cli: its commands join the registry group on import
    from registry.reports import api, cli, models, views  # noqa: F401

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
