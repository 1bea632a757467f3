"""The public pages (filing, tracking, responding, statistics): their blueprint. The modules of
web/public/ take it from here to add their routes, and web/public/__init__.py imports them: the
package and its modules do not import each other."""
from flask import Blueprint

bp = Blueprint("public", __name__)
