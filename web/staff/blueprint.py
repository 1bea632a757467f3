"""The staff sign-in and account pages: their blueprint. The modules of web/staff/ take it from
here to add their routes, and web/staff/__init__.py imports them: the package and its modules do
not import each other."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
