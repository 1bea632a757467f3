"""The unit whose decision the level above reviews: it reads the case while the review runs and
after it (read only), and its mailbox is told when the review is decided (信访工作条例 第三十二条
第二款, 第三十五条). Any other unit still gets the same 404 as for a number never issued."""
import json

from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.notify.models import OutboxMessage
from casework.registry.models import Unit
from tests.conftest import BASIS
from tests.web.test_admin_routing import login_as
from tests.web.test_desk_api import act, get, move, token_for

REPLY = "经核查，协会的收费有会员大会决议依据，您的请求不予支持。"


def test_the_unit_whose_reply_is_reviewed_reads_the_review_and_is_told_its_outcome(client, db, services, file_case,
                                                                                   make_staff):
    receipt = file_case()
    number, case_id = receipt.case_number, receipt.case_id
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, case_id, "accept")
    act(db, services, handler, case_id, "reply", opinion="not_supported", legal_basis=BASIS, public_text=REPLY)
    act(db, services, Actor.complainant(case_id), case_id, "request_review", public_text="协会收费没有依据，请求复查。")

    # under review one level up (中央社会工作部): the unit that replied reads it, and can do nothing
    login_as(client, db, handler)
    page = client.get(f"/desk/cases/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="decided-only"' in html and "中央社会工作部" in html
    assert '<details class="move' not in html  # no move is offered to it
    token = token_for(db, handler)
    answer = get(client, token, f"/cases/{number}")
    assert answer.status_code == 200 and answer.get_json()["allowed_moves"] == []
    refused = move(client, token, number, "decide_review", version=answer.get_json()["version"],
                   public_text="经复查，维持原处理意见。", opinion="not_supported", legal_basis=BASIS)
    assert refused.status_code == 403
    # any other unit: the same 404 as ever
    other = client.application.test_client()
    login_as(other, db, make_staff("samr", Role.handler))
    assert other.get(f"/desk/cases/{number}").status_code == 404

    # the review supports the request: the unit that replied is told, and reads the decision
    reviewer = make_staff("swd-central", Role.handler)
    act(db, services, reviewer, case_id, "decide_review", opinion="supported", legal_basis=BASIS,
        public_text="经复查，协会收费缺乏依据，撤销原处理意见，支持您的请求。")
    with db.session_scope(write=False) as s:
        told = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == "review_decided_unit")))
        miit_mailbox = s.scalar(select(Unit.notice_email).where(Unit.code == "miit"))
    assert miit_mailbox and len(told) == 1
    assert services.cipher.decrypt_text(told[0].recipient_enc, "outbox.recipient") == miit_mailbox
    assert json.loads(services.cipher.decrypt(told[0].payload_enc, "outbox.payload")) == {"case_number": number}
    after = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "撤销原处理意见，支持您的请求" in after and "予以支持" in after


def test_a_review_decisions_form_starts_from_the_decision_it_reviews(client, db, services, file_case, make_staff):
    """信访工作条例 第三十五条: the body above decides the review, and its decision replaces the
    finding and opinion reviewed (第三十二条). Its form started empty, so a reviewer who upheld the
    reply and left 核查结论 at 请选择… erased the reply's 属实 from the case and the status page.
    It starts from the reviewed decision's finding, opinion and laws, which the reviewer may change."""
    import re

    receipt = file_case()
    number, case_id = receipt.case_number, receipt.case_id
    handler = make_staff("miit", Role.handler)
    act(db, services, handler, case_id, "accept")
    act(db, services, handler, case_id, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY,
        finding="substantiated")
    act(db, services, Actor.complainant(case_id), case_id, "request_review", public_text="协会仍未退费，请求复查。")
    reviewer = make_staff("swd-central", Role.handler)
    login_as(client, db, reviewer)
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    form = html[html.index('id="move-decide_review"'):]
    form = form[:form.index("</form>")]
    # a review (复查) is named so, not 复查（复核） (信访工作条例 第三十五条; 复核 is 第三十六条's)
    assert "<summary>作出复查决定</summary>" in form and "复查意见（将告知投诉人）" in form and "复查（复核）" not in form
    assert re.search(r'<option value="substantiated" selected>属实</option>', form)
    assert re.search(r'<option value="supported" selected>', form)
    assert f'id="m-decide_review-legal_basis" name="legal_basis" type="text" value="{BASIS}"' in form
    # the staff API offers the same starting values
    token = token_for(db, reviewer)
    [offer] = [m for m in get(client, token, f"/cases/{number}").get_json()["moves"] if m["name"] == "decide_review"]
    starts = {f["name"]: f.get("value") for f in offer["fields"]}
    assert starts == {"public_text": None, "finding": "substantiated", "opinion": "supported", "legal_basis": BASIS}
