from web.admin.blueprint import bp  # noqa: F401

from web.admin import views  # noqa: F401  (registers the routes)
from web.admin import deadlines  # noqa: F401
from web.admin import registry, units, users, categories, notices, audit  # noqa: F401
from web.admin import documents  # noqa: F401
