"""Pages of the rights domain."""
from flask import Blueprint

bp = Blueprint("rights", __name__)
