"""The Open311 GeoReport v2 facade: their blueprint. The modules of web/open311/ take it from here
to add their routes, and web/open311/__init__.py imports them: the package and its modules do
not import each other."""
from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
