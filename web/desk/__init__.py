from web.desk.blueprint import bp  # noqa: F401

from web.desk import case, reveals, search, views  # noqa: F401
from web.desk import documents, export, language  # noqa: F401
