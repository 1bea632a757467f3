"""The staff JSON API: its blueprint (the modules of web/desk_api/ take it from here)."""
from flask import Blueprint

bp = Blueprint("desk_api", __name__, url_prefix="/api/v1/desk")
