from web.staff.blueprint import bp  # noqa: F401

from web.staff import views  # noqa: F401
