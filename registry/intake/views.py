"""Pages of the intake domain."""
from flask import Blueprint

bp = Blueprint("intake", __name__)
