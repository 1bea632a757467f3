"""A move refused on the status page (and on the respondent's page) is Post/Redirect/Get
(web.public.refused): the POST answers 303 to the page at the move's form, what was typed kept
encrypted in the database and only a token, the page, the move and the status in the signed
session; the page says the refusal once, with its status, and a reload shows the plain page.
Nothing of the move is committed."""
import json

import sqlalchemy as sa

from casework.accounts.models import Role
from casework.cases.models import CaseState as S
from tests.conftest import BASIS
from tests.web.test_mine_code_step import session_of
from tests.web.test_public_moves import opened, post, staff_move, state  # noqa: F401 (the opened fixture)
from tests.web.test_mediation_web import (  # noqa: F401 (the coordinator fixture)
    accept, case_state, consent, coordinator, public_post,
)

COMMENT = "答复没有说明退还会费的时间，请说明。"


def replied(db, services, make_staff, receipt):
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS,
               public_text="经核查，协会已停止强制入会。")


def test_a_rating_sent_without_a_rating_is_said_once_on_the_status_page(app, client, db, services, make_staff,
                                                                        opened):
    receipt, csrf, get = opened
    replied(db, services, make_staff, receipt)
    before = state(db, receipt.case_id)
    resp = post(client, receipt, csrf, "rate", db, public_text=COMMENT)
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/track/{receipt.case_number}"
    # the signed session (readable by anyone holding the cookie) holds no typed text
    held = session_of(app, client)
    assert COMMENT not in json.dumps(held, ensure_ascii=False)
    assert set(held["move_refused"]) == {"token", "scope", "move", "status"}
    assert held["move_refused"]["move"] == "rate" and held["move_refused"]["status"] == 422
    with db.session_scope(write=False) as s:  # kept encrypted
        raw = bytes(s.execute(sa.text("SELECT draft_enc FROM intake_draft WHERE token = :t"),
                              {"t": held["move_refused"]["token"]}).scalar())
    assert raw and COMMENT.encode("utf-8") not in raw

    page = client.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="rating-error"' in html and 'id="move-error"' in html and "autofocus" in html
    assert f">{COMMENT}</textarea>" in html
    # the summary's line: the question that labels the field, then its error, with no colon after the mark
    assert "您对答复满意吗？请选择您的满意程度。" in html and "吗？：" not in html
    again = client.get(f"/track/{receipt.case_number}")  # a reload: the plain page
    assert again.status_code == 200
    assert 'id="rating-error"' not in again.get_data(as_text=True) and COMMENT not in again.get_data(as_text=True)
    assert state(db, receipt.case_id) == before and before[0] is S.replied


def test_a_move_refused_by_the_machine_changes_nothing_and_keeps_its_status(client, db, services, make_staff, opened):
    """A WorkflowError (a form sent from a page the case has moved on from: 409) answers 303 too;
    the move's changes are dropped, the page answers with the machine's status."""
    receipt, csrf, get = opened
    replied(db, services, make_staff, receipt)
    before = state(db, receipt.case_id)
    resp = client.post(f"/track/{receipt.case_number}/moves/rate", data={
        "csrf_token": csrf, "version": before[1] - 1, "rating": "satisfied", "public_text": COMMENT})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/track/{receipt.case_number}"
    page = client.get(resp.headers["Location"])
    assert page.status_code == 409 and f">{COMMENT}</textarea>" in page.get_data(as_text=True)
    assert state(db, receipt.case_id) == before
    assert client.get(f"/track/{receipt.case_number}").status_code == 200


def test_the_respondents_refused_send_is_said_on_its_own_page_only(app, client, db, coordinator, mediation):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    resp = public_post(respondent, "/respond", number, "respondent_end_mediation", public_text="对方拒绝协商。")
    assert resp.status_code == 303 and resp.headers["Location"] == f"/respond/{number}"
    assert "对方拒绝协商。" not in json.dumps(session_of(app, respondent), ensure_ascii=False)
    page = respondent.get(resp.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "请勾选确认框，确认您要终止调解。" in html and ">对方拒绝协商。</textarea>" in html
    assert respondent.get(f"/respond/{number}").status_code == 200
    assert case_state(db, mediation.case_id) is S.mediating
