"""The administration pages: their blueprint. The modules of web/admin/ take it from here to add
their routes, and web/admin/__init__.py imports them: the package and its modules do not import
each other."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
