"""Pages of the imports domain."""
from flask import Blueprint

bp = Blueprint("imports", __name__)
