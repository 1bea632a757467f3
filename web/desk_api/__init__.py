from web.desk_api.blueprint import bp  # noqa: F401

from web.desk_api import views  # noqa: F401
