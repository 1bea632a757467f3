"""schemathesis against web/api/openapi.json, through the WSGI app: no 500, and every answer
conforms to the document (status codes, content types, bodies). The staff API is called with
a handler's token. Examples are capped per operation; the count is printed."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from casework.accounts.models import Role, User
from casework.accounts.operations import issue_token
from web.extensions import limiter

COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print("\nschemathesis cases run: " + ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items()))
          + f"; total {sum(COUNTS.values())}")


@pytest.fixture
def staff_token(db, make_staff):
    actor = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        return issue_token(s, s.get(User, actor.user_id), "schemathesis")


def test_the_api_keeps_its_document(app, api_schema, staff_token):
    # schemathesis' lazy pytest fixture does not run under pytest 9: each operation's
    # hypothesis strategy is driven here instead
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # every operation the document lists is fuzzed: the public API's 8 (with POST /api/v1/verifications,
    # issue 19, a case's documents and a reply's files) and the staff API's 6 (the custodian's reveal requests)
    documented = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert len(operations) == sum(len(methods) for methods in documented.values()) >= 14

    for operation in operations:
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            with app.app_context():  # this app's database, whatever app was made last
                limiter.reset()  # the per-number lookup limit answers 429, which a fuzzer would hit at once
            key = f"{case.method} {operation.path}"
            COUNTS[key] = COUNTS.get(key, 0) + 1
            if case.path.startswith("/api/v1/desk"):
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {staff_token}"}
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
            # the document does not spell out the business rules (which category fits which
            # type, who must give a name): a schema-valid body may be refused with 422
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        run()
