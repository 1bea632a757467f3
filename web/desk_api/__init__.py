from flask import Blueprint

bp = Blueprint("desk_api", __name__, url_prefix="/api/v1/desk")

from web.desk_api import views  # noqa: E402,F401
