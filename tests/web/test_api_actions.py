"""The complainant's actions through the public JSON API (issue 16): what the status page lets a
complainant do, a mini-program or a hotline system does with POST /api/v1/cases/<n>/<action>
and the query code in X-Query-Code; GET /api/v1/cases/<n> lists the actions open now."""
import base64
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Attachment, Case, EventKind
from casework.workflow.machine import perform
from tests.conftest import BASIS


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 6), (0, 90, 200)).save(out, format="PNG")
    return out.getvalue()


def act(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        perform(s, services, actor, s.get(Case, case_id), move, **fields)


def do(client, receipt, action, body=None, code=None, **headers):
    return client.post(f"/api/v1/cases/{receipt.case_number}/{action}", json=body if body is not None else {},
                       headers={"X-Query-Code": code or receipt.query_code, **headers})


def actions(client, receipt):
    got = client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": receipt.query_code})
    assert got.status_code == 200
    return got.get_json()["actions"]


def test_the_actions_open_now_follow_the_state(client, db, services, file_case, make_staff):
    receipt = file_case()
    assert actions(client, receipt) == ["add_evidence", "withdraw"]
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, receipt.case_id, "accept")
    act(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")
    assert actions(client, receipt) == ["answer", "add_evidence", "withdraw"]
    ok = do(client, receipt, "answer", {"public_text": "凭证已通过邮件寄出。"})
    assert ok.status_code == 200 and ok.get_json()["state"] == "accepted"
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == receipt.case_id).values(due_at=services.clock() - timedelta(hours=1)))
    assert actions(client, receipt) == ["add_evidence", "urge", "withdraw"]
    act(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    assert actions(client, receipt) == ["add_evidence", "rate", "review"]


def test_add_evidence_with_a_file_and_urge(client, db, services, file_case, make_staff):
    receipt = file_case()
    body = {"public_text": "协会又发来了催缴通知。",
            "files": [{"name": "通知.png", "content_base64": base64.b64encode(png()).decode()}]}
    ok = do(client, receipt, "add_evidence", body, **{"Accept-Language": "zh-CN"})
    assert ok.status_code == 200, ok.get_json()
    got = ok.get_json()
    assert got["message"].startswith("您补充的材料已加入案件")
    entry = [e for e in got["timeline"] if e["kind"] == "evidence_added"][-1]
    assert entry["text"] == "协会又发来了催缴通知。" and entry["files"][0]["filename"] == "通知.png"
    with db.session_scope(write=False) as s:
        att = s.scalar(select(Attachment).where(Attachment.case_id == receipt.case_id, Attachment.filename == "通知.png"))
        assert att.content_type == "image/png" and att.event.kind is EventKind.evidence_added
    # the same cleaning as the filing form: a file that is not an image or a PDF is refused
    bad = do(client, receipt, "add_evidence",
             {"files": [{"name": "x.png", "content_base64": base64.b64encode(b"<script>").decode()}]})
    assert bad.status_code == 422 and "files" in bad.get_json()["errors"]
    # urge: not before the deadline (409), then once (200), then not again (409)
    act(db, services, make_staff("miit", Role.handler), receipt.case_id, "accept")
    early = do(client, receipt, "urge")
    assert early.status_code == 409 and "urge" not in early.get_json()["actions"]
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == receipt.case_id).values(due_at=services.clock() - timedelta(hours=1)))
    assert do(client, receipt, "urge", {"public_text": "已超期，请尽快处理。"}).status_code == 200
    assert do(client, receipt, "urge").status_code == 409


def test_a_wrong_code_or_number_is_404_alike(client, file_case):
    receipt = file_case()
    wrong = do(client, receipt, "add_evidence", {"public_text": "补充说明。"}, code="AAAA-AAAA-AAAA-AAAA")
    unknown = client.post("/api/v1/cases/TS2026010112345/add_evidence", json={"public_text": "补充说明。"},
                          headers={"X-Query-Code": receipt.query_code})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()
    assert do(client, receipt, "no_such_action").status_code == 404


def test_field_errors_are_422_per_field(client, db, services, file_case, make_staff):
    receipt = file_case()
    empty = do(client, receipt, "add_evidence", {}, **{"Accept-Language": "zh-CN"})
    assert empty.status_code == 422 and empty.get_json()["errors"]["public_text"] == ["请填写陈述或附上文件。"]
    assert do(client, receipt, "add_evidence", {"public_text": 5}).get_json()["errors"]["public_text"]
    assert "version" in do(client, receipt, "add_evidence", {"public_text": "补充说明。", "version": "x"}).get_json()["errors"]
    unconfirmed = do(client, receipt, "withdraw", {"public_text": "已自行协商解决。"})
    assert unconfirmed.status_code == 422 and "confirm" in unconfirmed.get_json()["errors"]
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, receipt.case_id, "accept")
    act(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    bad = do(client, receipt, "rate", {"rating": "ecstatic"})
    assert bad.status_code == 422 and "rating" in bad.get_json()["errors"]
    review = do(client, receipt, "review", {"public_text": "不"})
    assert review.status_code == 422 and "public_text" in review.get_json()["errors"]
    assert do(client, receipt, "rate", {"rating": "satisfied", "public_text": "处理及时。"}).get_json()["state"] == "closed"


def test_an_action_not_open_in_the_state_is_409(client, db, services, file_case):
    receipt = file_case()
    for action in ("answer", "rate", "review", "urge"):
        resp = do(client, receipt, action, {"public_text": "请尽快处理。", "rating": "satisfied"})
        assert resp.status_code == 409, action
    with db.session_scope(write=False) as s:
        version = s.get(Case, receipt.case_id).version
    stale = do(client, receipt, "add_evidence", {"public_text": "补充说明。", "version": version - 1})
    assert stale.status_code == 409 and stale.get_json()["case"]["case_number"] == receipt.case_number
    done = do(client, receipt, "withdraw", {"confirm": True, "version": version})
    assert done.status_code == 200 and done.get_json()["state"] == "withdrawn"
    assert done.get_json()["actions"] == []
    assert do(client, receipt, "add_evidence", {"public_text": "补充说明。"}).status_code == 409


def test_a_reporter_withdraws_and_a_mediation_request_is_not_ended_before_it_is_taken_up(client, db, services, file_case, mediation):
    report = file_case(type="report", category="illegal_fees", title="协会违规收费", anonymous=True, complainant={},
                       description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    resp = do(client, report, "withdraw", {"confirm": True})
    assert resp.status_code == 200 and resp.get_json()["state"] != "withdrawn"  # recorded; the unit decides
    assert "withdraw" not in resp.get_json()["actions"]
    # a mediation request not yet taken up: withdrawn, not ended
    assert actions(client, mediation) == ["add_evidence", "withdraw"]
    assert do(client, mediation, "end_mediation", {"public_text": "已与对方自行和解。"}).status_code == 409


def test_the_openapi_document_lists_the_actions(client):
    from web.api.public import ACTIONS

    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/cases/{case_number}/{action}"]["post"]
    enum = next(p for p in post["parameters"] if p["name"] == "action")["schema"]["enum"]
    assert enum == list(ACTIONS)
    assert {"409", "422", "404"} <= set(post["responses"])
    assert "actions" in spec["components"]["schemas"]["PublicCase"]["properties"]


def test_evidence_is_taken_while_a_decision_is_still_to_come(client, db, services, file_case, make_staff):
    """An answered suggestion takes no more evidence: nothing is left to decide about it. A replied
    complaint takes it while its review (复查) may still be asked for, within 30 days of the reply
    (信访工作条例 第三十五条), and not once that time has passed."""
    handler = make_staff("miit", Role.handler)
    suggestion = file_case(type="suggestion", category="policy", title="公开会费标准",
                           description="建议协会在网站上公开会费标准和收支情况。")
    act(db, services, handler, suggestion.case_id, "acknowledge_reply",
        public_text="感谢建议，已要求协会在网站公开会费标准。")
    assert actions(client, suggestion) == ["rate"]
    refused = do(client, suggestion, "add_evidence", {"public_text": "补充说明。"}, **{"Accept-Language": "zh-CN"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "已经答复，本案件不再接收补充材料。"

    complaint = file_case()
    act(db, services, handler, complaint.case_id, "accept")
    act(db, services, handler, complaint.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    assert do(client, complaint, "add_evidence", {"public_text": "协会仍未退还全部会费。"}).status_code == 200
    with db.session_scope() as s:  # the 30 days to ask for a review have passed
        s.execute(update(Case).where(Case.id == complaint.case_id).values(due_at=services.clock() - timedelta(hours=1)))
    assert "add_evidence" not in actions(client, complaint)
    late = do(client, complaint, "add_evidence", {"public_text": "补充说明。"}, **{"Accept-Language": "en"})
    assert late.status_code == 409
    assert late.get_json()["error"]["message"] == "The reply has been given: nothing more can be added to this case."


WRONG = "AAAA-AAAA-AAAA-AAAA"


def _wrong_read(client, receipt):
    return client.get(f"/api/v1/cases/{receipt.case_number}", headers={"X-Query-Code": WRONG})


def _wrong_act(client, receipt):
    return do(client, receipt, "add_evidence", {"public_text": "补充说明。"}, code=WRONG)


def _wrong_document(client, receipt):
    return client.get(f"/api/v1/cases/{receipt.case_number}/documents/1", headers={"X-Query-Code": WRONG})


@pytest.mark.parametrize("first, then", [(_wrong_read, _wrong_act), (_wrong_act, _wrong_read),
                                         (_wrong_document, _wrong_act), (_wrong_read, _wrong_document)])
def test_reading_acting_and_documents_share_one_budget_of_wrong_codes(client, file_case, first, then):
    """docs/security.md: wrong codes are refused past 10 per 10 minutes per case number. Reading the
    case, acting on it and fetching its documents count together (they were 10 each: 20 or more
    guesses per number); a right code is never refused, so strangers cannot lock the complainant out."""
    receipt = file_case()
    for _ in range(5):
        assert first(client, receipt).status_code == 404
        assert then(client, receipt).status_code == 404
    for refused in (first(client, receipt), then(client, receipt)):
        assert refused.status_code == 429 and refused.mimetype == "application/json"
        assert 1 <= int(refused.headers["Retry-After"]) <= 600
    assert actions(client, receipt) == ["add_evidence", "withdraw"]  # the right code still reads
    assert do(client, receipt, "add_evidence", {"public_text": "补充说明。"}).status_code == 200


def test_each_action_takes_the_text_lengths_the_document_gives(client, db, services, file_case, make_staff):
    """The served document gives each action's limits from the workflow table, and the server
    applies exactly those (answer: 2 to 5000 characters; it had said up to 10000 and nothing lower)."""
    from web.api.public import ACTIONS
    from casework.workflow.machine import MOVES

    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/cases/{case_number}/{action}"]["post"]
    text = spec["components"]["schemas"]["ActionRequest"]["properties"]["public_text"]
    limits = {(f.lo, f.hi) for names in ACTIONS.values() for n in names for f in MOVES[n].fields if f.name == "public_text"}
    assert (text["minLength"], text["maxLength"]) == (min(lo for lo, _ in limits), max(hi for _, hi in limits))
    assert "answer: public_text? (2\u20135000 characters), files?" in post["description"]
    assert "review: public_text (5\u20135000 characters)" in post["description"]
    assert "urge: public_text? (1\u2013500 characters)" in post["description"]
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, receipt.case_id, "accept")
    act(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")
    for wrong in ("补", "补" * 5001):
        refused = do(client, receipt, "answer", {"public_text": wrong}, **{"Accept-Language": "en"})
        assert refused.status_code == 422
        assert refused.get_json()["errors"]["public_text"] == ["Between 2 and 5000 characters, please."]
    assert do(client, receipt, "answer", {"public_text": "补" * 5000}).status_code == 200


def test_ending_a_mediation_needs_confirm_true(client, db, services, mediation, make_staff):
    """人民调解法 第二十三条 (二): the applicant may end the mediation at any time, and it is not undone:
    "confirm": true, as withdraw asks and as the status page asks for a ticked box."""
    act(db, services, make_staff("caam-mediation", Role.unit_lead), mediation.case_id, "accept_mediation")
    for body in ({}, {"confirm": "true"}, {"confirm": 1}):
        refused = do(client, mediation, "end_mediation", body, **{"Accept-Language": "en"})
        assert refused.status_code == 422
        assert refused.get_json()["errors"] == {"confirm": ["Send \"confirm\": true to end the mediation: it cannot be undone."]}
    assert actions(client, mediation) == ["add_evidence", "withdraw", "end_mediation"]
    ended = do(client, mediation, "end_mediation", {"confirm": True}, **{"Accept-Language": "en"}).get_json()
    assert ended["state"] == "mediation_failed"
    assert ended["message"] == ("You ended the mediation. You may apply for arbitration, go to court, or turn this "
                                "request into a complaint with the turn_into_complaint action.")
    assert "turn_into_complaint" in ended["actions"]


def test_a_rating_not_taken_lists_the_ones_that_are(client, db, services, file_case, make_staff):
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, receipt.case_id, "accept")
    act(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    zh = do(client, receipt, "rate", {"rating": "满意"}).get_json()["errors"]["rating"]
    assert zh == ["请从以下选项中选择：satisfied, basically_satisfied, dissatisfied。"]
