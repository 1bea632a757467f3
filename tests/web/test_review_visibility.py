"""The unit whose decision the level above reviews: it reads the case while the review runs and
after it (read only), and its mailbox is told when the review is decided (信访工作条例 第三十二条
第二款, 第三十五条). Any other unit still gets the same 404 as for a number never issued. The
reviewing body's decision form starts empty, the decision under review shown above it read only
(第三十五、三十六条: the body above gives its own 复查意见 / 复核意见)."""
import json

from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case
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
    assert json.loads(services.cipher.decrypt(told[0].payload_enc, "outbox.payload")) == {"case_number": number,
                                                                                       "review_round": "复查"}
    after = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "撤销原处理意见，支持您的请求" in after and "予以支持" in after


SC_BASIS = "《社会团体登记管理条例》第二十九条"     # the province's reply (sc-economy-it)
MIIT_BASIS = "《信访工作条例》第三十五条"           # the ministry's review decision


def _form(html: str, move: str) -> str:
    form = html[html.index(f'id="move-{move}"'):]
    return form[:form.index("</form>")]


def _empty_decision_fields(form: str, *, text: bool = True) -> None:
    """The finding, the opinion and the laws (and the text) are empty: nothing chosen, nothing typed."""
    import re

    for name in ("finding", "opinion"):
        select = re.search(rf'<select id="m-decide_review-{name}".*?</select>', form, re.S).group(0)
        assert " selected" not in select, name
    assert re.search(r'id="m-decide_review-legal_basis" name="legal_basis" type="text" value=""', form)
    if text:
        textarea = re.search(r'<textarea id="m-decide_review-public_text".*?</textarea>', form, re.S).group(0)
        assert textarea.endswith("></textarea>")


def test_xinfang_35_36_a_review_and_a_re_review_decide_with_their_own_finding_opinion_and_laws(
        client, db, services, file_case, make_staff):
    """信访工作条例（2022）第三十五条: 收到复查请求的机关、单位 … 提出复查意见; 第三十六条: 收到复核请求的
    机关、单位 … 提出复核意见. The body above gives its own opinion (第三十二条: the opinion and the laws
    it rests on). The 复查 form of the ministry opened holding the province's 属实 / 予以支持 /
    《社会团体登记管理条例》第二十九条, the 复核 form of 中央社会工作部 the ministry's 《信访工作条例》
    第三十五条: a reviewer who typed only the text issued the lower body's articles as their own. Each
    form starts empty; the decision under review is shown above it, read only and labelled so; a send
    refused keeps what the reviewer typed, never the reviewed decision's."""
    import re

    from casework.registry.models import Association
    from tests.casework.test_review_chain import SICHUAN_FOOD
    from tests.web.test_mediation_web import CSRF, VERSION

    with db.session_scope(write=False) as s:
        code = s.scalar(select(Association.credit_code).where(Association.name == SICHUAN_FOOD))
    receipt = file_case(association=code)
    number, case_id = receipt.case_number, receipt.case_id
    province = make_staff("sc-economy-it", Role.handler)
    act(db, services, province, case_id, "accept")
    act(db, services, province, case_id, "reply", opinion="supported", legal_basis=SC_BASIS, public_text=REPLY,
        finding="substantiated")
    act(db, services, Actor.complainant(case_id), case_id, "request_review", public_text="协会仍未退费，请求复查。")

    # 复查 at the ministry: the form starts empty, the province's reply shown above it for reference
    ministry = make_staff("miit", Role.handler)
    login_as(client, db, ministry)
    html = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    form = _form(html, "decide_review")
    # a review (复查) is named so, not 复查（复核） (信访工作条例 第三十五条; 复核 is 第三十六条's)
    assert "<summary>作出复查决定</summary>" in form and "复查意见（将告知投诉人）" in form and "复查（复核）" not in form
    _empty_decision_fields(form)
    shown = re.search(r'<section class="reviewed-decision".*?</section>', form, re.S).group(0)
    assert "被复查的决定（仅供参考）" in shown and "答复（信访处理意见）" in shown
    assert re.search(r'id="reviewed-finding">属实<', shown) and re.search(r'id="reviewed-opinion">予以支持<', shown)
    assert SC_BASIS in shown and "以上内容不会填入下方表单" in shown
    assert form.count(SC_BASIS) == 1  # in the read-only box only, in no field
    # the staff API offers no starting value either
    token = token_for(db, ministry)
    [offer] = [m for m in get(client, token, f"/cases/{number}").get_json()["moves"] if m["name"] == "decide_review"]
    assert {f["name"]: f.get("value") for f in offer["fields"]} == {
        "public_text": None, "finding": None, "opinion": None, "legal_basis": None}

    # a send with only the text is refused: the opinion and its laws are the reviewer's to give
    def send(**fields):
        page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
        return client.post(f"/desk/cases/{number}/moves/decide_review",
                           data={"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1),
                                 **fields})

    only_text = send(public_text="经复查，维持原处理意见，理由如下。")
    html = only_text.get_data(as_text=True)
    assert only_text.status_code == 422
    assert 'id="m-decide_review-opinion-error"' in html and 'id="m-decide_review-legal_basis-error"' in html
    _empty_decision_fields(_form(html, "decide_review"), text=False)  # what was typed: the text only
    # a validation error keeps what the reviewer typed (a text too short), not the reply's values
    refused = send(public_text="短", finding="partly_substantiated", opinion="explained", legal_basis=MIIT_BASIS)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="m-decide_review-public_text-error"' in html
    form = _form(html, "decide_review")
    assert re.search(r'<option value="partly_substantiated" selected>', form)
    assert re.search(r'<option value="explained" selected>', form)
    assert f'id="m-decide_review-legal_basis" name="legal_basis" type="text" value="{MIIT_BASIS}"' in form
    assert re.search(r'<textarea id="m-decide_review-public_text"[^>]*>短</textarea>', form)
    assert f'value="{SC_BASIS}"' not in form
    done = send(public_text="经复查，协会收费依据不足，部分支持您的请求，理由如下。", finding="partly_substantiated",
                opinion="explained", legal_basis=MIIT_BASIS)
    assert done.status_code == 303
    with db.session_scope(write=False) as s:
        decided = s.get(Case, case_id).events[-1]
        assert (decided.data["legal_basis"], decided.data["opinion"], decided.data["finding"]) == (
            MIIT_BASIS, "explained", "partly_substantiated")

    # 复核 at 中央社会工作部: empty again, the ministry's 复查意见 shown above it
    act(db, services, Actor.complainant(case_id), case_id, "request_review", public_text="对复查意见不服，请求复核。")
    top = make_staff("swd-central", Role.handler)
    login_as(client, db, top)
    form = _form(client.get(f"/desk/cases/{number}").get_data(as_text=True), "decide_review")
    assert "<summary>作出复核决定</summary>" in form
    _empty_decision_fields(form)
    shown = re.search(r'<section class="reviewed-decision".*?</section>', form, re.S).group(0)
    assert "被复核的决定（仅供参考）" in shown and "复查意见" in shown and MIIT_BASIS in shown
    assert re.search(r'id="reviewed-opinion">[^<]*解释说明', shown)
    assert form.count(MIIT_BASIS) == 1 and SC_BASIS not in form

