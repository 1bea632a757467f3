from web.api.blueprint import bp  # noqa: F401

from web.api import public  # noqa: F401
