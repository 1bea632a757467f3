"""An Open311 GeoReport v2 facade over Changtong (docs/open311.md).

Services are the categories, service requests are cases. Civic-reporting clients (Open311
mobile apps, the open311 client libraries) can list services, read a service definition, file
a case and follow it with its query code, in XML or JSON. No cookie is read or set, so the
blueprint is exempt from CSRF protection (see web/app.py).
"""
from web.open311.blueprint import bp  # noqa: F401

from web.open311 import catalog, intake, render, status  # noqa: F401
