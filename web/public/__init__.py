from flask import Blueprint

bp = Blueprint("public", __name__)

from web.public import intake, pages, track  # noqa: E402,F401
from web.public import respond  # noqa: E402,F401
from web.public import stats  # noqa: E402,F401
