"""The Thanh Hóa overseas community registry."""
import logging
import os

from flask import Flask

from config import Config

log = logging.getLogger(__name__)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict | None = None) -> Flask:
    """Build the application; config overrides the environment's settings."""
    app = Flask(
        __name__,
        instance_path=os.path.join(ROOT, "instance"),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    app.config.from_mapping(Config.from_environment())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(ROOT, "translations")
    if config:
        app.config.from_mapping(config)
    _check_settings(app)

    from registry.core import setup

    setup.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _register_domains(app)
    log.debug("Application created for %s", app.config["ENV_NAME"])
    return app


def _check_settings(app: Flask) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "registry.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + path
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment, or set "
            "REGISTRY_ENV=development for a local, non-production run."
        )


def _register_domains(app: Flask) -> None:
    from registry import (accounts, audit, imports, intake, matching, outreach, people, places,
                          reports, rights)
    from registry.core import views as core_views

    from registry.core.cli import registry_cli

    app.register_blueprint(core_views.bp)
    for domain in (accounts, audit, places, people, intake, imports, matching, rights,
                   reports, outreach):
        domain.init_app(app)
    app.cli.add_command(registry_cli)
