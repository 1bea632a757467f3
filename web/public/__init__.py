from flask import Blueprint

bp = Blueprint("public", __name__)

from web.public import intake, pages, track  # noqa: E402,F401
