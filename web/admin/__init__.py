from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import views  # noqa: E402,F401  (registers the routes)
from web.admin import deadlines  # noqa: E402,F401
from web.admin import registry, units, users, categories, notices, audit  # noqa: E402,F401
