from web.public.blueprint import bp  # noqa: F401

from web.public import intake, pages, track  # noqa: F401
from web.public import respond  # noqa: F401
from web.public import stats  # noqa: F401
from web.public import documents  # noqa: F401
from web.public import receipt  # noqa: F401
from web.public import mine  # noqa: F401
