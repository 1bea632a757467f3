"""Idempotency-Key on the staff API's moves, as the filing API has it: a move sent again under
its key (a retry after a lost answer) is answered with the move made, never made twice nor
refused 409 for the version the first one used up; another request under the key is 422."""
import json
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.cases.models import Case, Event, EventKind
from casework.idempotency import KEPT, StaffRequestKey
from tests.web.test_desk_api import get, move, token_for, version_of
from tests.web.test_desk_api_reveals import REASON, decide, report

REPLY = "经核查，协会已停止强制入会做法并退还会费。"


def events(db, number, kind=None):
    with db.session_scope(write=False) as s:
        stmt = select(func.count()).select_from(Event).join(Case, Case.id == Event.case_id).where(Case.number == number)
        return s.scalar(stmt if kind is None else stmt.where(Event.kind == kind))


def key():
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_a_replayed_move_is_made_once_and_answered_again(client, db, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    version = version_of(client, token, number)
    k = key()
    first = move(client, token, number, "accept", headers=k, version=version, public_text="已受理。")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    made = events(db, number)
    again = move(client, token, number, "accept", headers=k, version=version, public_text="已受理。")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["state"] == "accepted" and again.get_json()["version"] == first.get_json()["version"]
    assert events(db, number) == made  # not moved twice
    # the same body with its keys in another order and other spacing is the same request
    raw = client.post(f"/api/v1/desk/cases/{number}/accept", data='{ "public_text":"已受理。",  "version": %d }' % version,
                      content_type="application/json", headers={"Authorization": f"Bearer {token}", **k})
    assert raw.status_code == 200 and raw.headers["Idempotent-Replayed"] == "true"
    # without the key the same request is what it always was: a stale version
    assert move(client, token, number, "accept", version=version, public_text="已受理。").status_code == 409


def test_the_same_key_with_another_request_is_refused_422(client, db, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number, other = file_case().case_number, file_case().case_number
    version = version_of(client, token, number)
    k = key()
    assert move(client, token, number, "note", headers=k, version=version, internal_text="第一条").status_code == 200
    made = events(db, number)
    for resp in (move(client, token, number, "note", headers={**k, "Accept-Language": "en"},
                      version=version, internal_text="第二条"),  # another body
                 move(client, token, other, "note", headers={**k, "Accept-Language": "en"},  # another case
                      version=version_of(client, token, other), internal_text="第一条")):
        assert resp.status_code == 422
        assert resp.get_json()["errors"]["Idempotency-Key"] == [
            "This Idempotency-Key was used for a different request. Send the same request again to get its answer, "
            "or use a new key for a new request."]
    assert events(db, number) == made
    # a key is the account's own: another handler's same key is a new request
    colleague = token_for(db, make_staff("miit", Role.handler))
    assert move(client, colleague, number, "note", headers=k, version=version_of(client, colleague, number),
                internal_text="同事的备注").status_code == 200


def test_a_refused_move_is_not_remembered_and_a_bad_key_is_422(client, db, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    version = version_of(client, token, number)
    k = key()
    refused = move(client, token, number, "reply", headers=k, version=version, public_text=REPLY)
    assert refused.status_code == 422  # not in this state: nothing was made, nothing kept
    assert move(client, token, number, "accept", headers=k, version=version).status_code == 200
    bad = move(client, token, number, "note", headers={"Idempotency-Key": "short", "Accept-Language": "en"},
               version=version_of(client, token, number), internal_text="备注")
    assert bad.status_code == 422 and "Idempotency-Key" in bad.get_json()["errors"]


def test_a_move_that_sent_the_case_away_answers_again(client, db, make_staff, file_case):
    """A transfer takes the case out of the caller's view: its replay still answers it, once more."""
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    with db.session_scope(write=False) as s:
        from casework.registry.models import Unit
        mca = s.scalar(select(Unit.id).where(Unit.code == "mca"))
    body = {"version": version_of(client, token, number), "unit_id": mca, "reason": "other_unit_competent",
            "public_text": "已转交民政部办理。"}
    k = key()
    first = move(client, token, number, "transfer", headers=k, **body)
    assert first.status_code == 200, first.get_json()
    assert get(client, token, f"/cases/{number}").status_code == 404
    again = move(client, token, number, "transfer", headers=k, **body)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert events(db, number, EventKind.transferred) == 1


def test_a_reveal_decision_replayed_is_decided_once(client, db, make_staff, file_case):
    receipt, code = report(db, file_case, make_staff)
    handler = token_for(db, make_staff(code, Role.handler))
    number = receipt.case_number
    assert move(client, handler, number, "request_reveal", version=version_of(client, handler, number),
                reason=REASON).status_code == 200
    custodian = token_for(db, make_staff(code, Role.custodian))
    (pending,) = get(client, custodian, "/reveals").get_json()["pending"]
    k = key()
    first = decide(client, custodian, pending["id"], headers=k, decision="approve", note="同意。")
    again = decide(client, custodian, pending["id"], headers=k, decision="approve", note="同意。")
    assert first.status_code == again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["status"] == "approved" and "no-store" in again.headers["Cache-Control"]
    assert events(db, number, EventKind.reveal_decided) == 1
    other = decide(client, custodian, pending["id"], headers=k, decision="deny", note="不同意。")
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]


def test_a_key_is_forgotten_after_a_day(client, db, services, make_staff, file_case):
    token = token_for(db, make_staff("miit", Role.handler))
    number = file_case().case_number
    k = key()
    assert move(client, token, number, "note", headers=k, version=version_of(client, token, number),
                internal_text="备注").status_code == 200
    with db.session_scope() as s:
        row = s.scalar(select(StaffRequestKey).where(StaffRequestKey.key == k["Idempotency-Key"]))
        row.created_at = services.clock() - KEPT - timedelta(minutes=1)
    again = move(client, token, number, "note", headers=k, version=version_of(client, token, number),
                 internal_text="备注")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers  # a new move, a day later
    with db.session_scope(write=False) as s:  # the old row made way for it
        assert s.scalar(select(func.count()).select_from(StaffRequestKey)
                        .where(StaffRequestKey.key == k["Idempotency-Key"])) == 1


def test_the_openapi_document_names_the_header_on_the_staff_posts(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/desk/cases/{case_number}/{move}", "/api/v1/desk/reveals/{request_id}"):
        op = spec["paths"][path]["post"]
        refs = [p.get("$ref") for p in op["parameters"]]
        assert "#/components/parameters/StaffIdempotencyKey" in refs, path
        assert "Idempotent-Replayed" in op["responses"]["200"]["headers"]
    param = spec["components"]["parameters"]["StaffIdempotencyKey"]
    assert param["in"] == "header" and param["name"] == "Idempotency-Key"
    assert param["schema"]["pattern"] == "^[A-Za-z0-9_.:-]{32,64}$"
