"""The `flask --app wsgi registry ...` command group; domains add their commands."""
from flask.cli import AppGroup

registry_cli = AppGroup("registry", help="Registry maintenance commands.")
