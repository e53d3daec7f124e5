"""Entry point for gunicorn and the `flask` command."""
from registry import create_app

app = create_app()
