"""The public JSON API: their blueprint. The modules of web/api/ take it from here to add their
routes, and web/api/__init__.py imports them: the package and its modules do not import each
other."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
