"""The accessibility audit of the public pages (axe-core and by hand, a phone, Chinese and English):
errors tied to their fields, radio groups included; summaries that link to the field and name it;
look-up errors marked on both fields alike; scrolling tables reachable by keyboard; text in another
language than the page's marked with it; a move's form that expired with the session keeps what was
typed. The same checks in a real browser: tests/browser/test_public_a11y.py."""
import html as htmllib
import io
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S
from casework.stats.rollup import refresh
from casework.workflow.machine import perform
from tests.conftest import BASIS
from tests.web.test_public_pages import form_data, open_form
from tests.refused_moves import followed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def tag(page: str, element_id: str) -> str:
    """The start tag of the element with this id."""
    found = re.search(rf'<[a-z]+ [^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    assert found, f"no element #{element_id}"
    return found.group(0)


def attr(start_tag: str, name: str) -> str | None:
    found = re.search(rf'\s{name}="([^"]*)"', start_tag)
    return htmllib.unescape(found.group(1)) if found else None


def summary_links(page: str) -> list[tuple[str, str]]:
    box = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    return [(href, htmllib.unescape(text)) for href, text in re.findall(r'<a href="#([^"]+)"[^>]*>([^<]*)</a>', box)]


def described_by(page: str, element_id: str) -> list[str]:
    ids = (attr(tag(page, element_id), "aria-describedby") or "").split()
    for i in ids:
        tag(page, i)  # each exists
    return ids


def radios(page: str, name: str) -> list[str]:
    return re.findall(rf'<input [^>]*type="radio" name="{re.escape(name)}"[^>]*>', page)


# -- 1. radio groups and fields: errors tied to them ---------------------------------------------

def test_the_other_partys_kind_is_a_required_group_whose_error_reaches_its_radio_buttons(client):
    client.get("/lang/en?next=/")
    csrf, token, page = open_form(client, "mediation")
    assert all(" required" in r and "aria-invalid" not in r for r in radios(page, "respondent.kind"))
    resp = client.post("/file/mediation", data=form_data(csrf, token, **{"respondent.name": "某某公司"}))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    group = radios(page, "respondent.kind")
    assert len(group) == 4
    for r in group:
        assert attr(r, "aria-invalid") == "true" and attr(r, "aria-describedby") == "respondent-kind-error"
        assert " required" in r
    first = attr(group[0], "id")
    assert ("respondent-kind-member_company", "Who is the other party? Say who the other party is.") in summary_links(page)
    assert first == "respondent-kind-member_company"


def test_an_association_code_refused_marks_the_association_choice(client):
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(csrf, token, association="91110000000000000X"))
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    group = radios(page, "association")
    assert group and all(attr(r, "aria-invalid") == "true" and attr(r, "aria-describedby") == "association-error"
                         and " required" in r for r in group)
    target, text = next((t, x) for t, x in summary_links(page) if x.startswith("所涉协会："))
    assert attr(tag(page, target), "type") == "radio" and attr(tag(page, target), "name") == "association"
    assert 'id="association-error"' in page
    # a suggestion need not name one: its group is not required
    csrf, token, page = open_form(client, "suggestion")
    assert not any(" required" in r for r in radios(page, "association"))


def test_a_field_in_error_keeps_its_hint_beside_the_error(client):
    csrf, token, _ = open_form(client, "mediation")
    resp = client.post("/file/mediation", data=form_data(csrf, token, **{"respondent.name": "某"}))
    page = resp.get_data(as_text=True)
    assert attr(tag(page, "respondent-name"), "aria-invalid") == "true"
    assert described_by(page, "respondent-name") == ["respondent-name-hint", "respondent-name-error"]
    assert "2 至 100 个字" in page[page.index('id="respondent-name-hint"'):][:200]
    # a field with no error is described by its hint alone
    assert described_by(page, "title") == ["title-hint"]
    # a text area with a hint but no length limit is described by it too
    assert described_by(page, "claim")[0] == "claim-hint"


def test_a_refused_power_of_attorney_is_marked_invalid(client):
    csrf, token, _ = open_form(client)
    data = form_data(csrf, token, acting_as="agent", **{"agent.name": "李四", "agent.phone": "13900139000"})
    data["agent.power_of_attorney"] = (io.BytesIO(b"not an image at all"), "委托书.png")
    resp = client.post("/file/complaint", data=data, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    poa = tag(page, "agent-power_of_attorney")
    assert attr(poa, "aria-invalid") == "true"
    assert described_by(page, "agent-power_of_attorney") == ["agent-power_of_attorney-hint", "agent-power_of_attorney-error"]


def test_the_organisations_name_is_autocompleted_as_an_organisation(client):
    _, _, page = open_form(client)
    assert attr(tag(page, "organisation-name"), "autocomplete") == "organization"


# -- 2. the status page's and the respondent page's summaries -------------------------------------

@pytest.fixture
def opened(client, db, services, file_case, make_staff):
    """A complaint replied to, opened on its status page: (receipt, csrf, post)."""
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, receipt.case_id), "accept")
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, receipt.case_id), "reply", opinion="supported", legal_basis=BASIS,
                public_text="经核查，协会已停止强制入会做法并退还会费。")
    csrf = open_track(client, receipt)

    def post(move, client=client, csrf=csrf, **data):
        with db.session_scope(write=False) as s:
            version = s.get(Case, receipt.case_id).version
        return client.post(f"/track/{receipt.case_number}/moves/{move}",
                           data={"csrf_token": csrf, "version": version, **data})

    return receipt, csrf, post


def open_track(client, receipt):
    csrf = CSRF.search(client.get("/track").get_data(as_text=True)).group(1)
    resp = client.post("/track", data={"csrf_token": csrf, "number": receipt.case_number, "code": receipt.query_code})
    assert resp.status_code == 303
    return csrf


def test_a_rating_sent_empty_links_to_its_first_radio_button_and_marks_the_group(client, opened):
    _, _, post = opened
    resp = followed(client, post("rate"))
    assert resp.status_code == 422  # the status page the refused send's 303 led to
    page = resp.get_data(as_text=True)
    assert summary_links(page) == [("rate-rating-satisfied", "您对答复满意吗？请选择您的满意程度。")]
    assert 'id="to-failed-form"' in tag(page, "to-failed-form") and tag(page, "rate-rating-satisfied")
    for r in radios(page, "rating"):
        assert attr(r, "aria-invalid") == "true" and " required" in r
        assert attr(r, "aria-describedby").split() == ["rating-closes", "rating-error"]


def test_a_review_sent_empty_names_its_field_and_links_to_it(client, opened):
    _, _, post = opened
    page = followed(client, post("request_review", public_text="")).get_data(as_text=True)
    assert summary_links(page) == [("request_review-public_text", "不满意的理由：此项为必填项。")]
    assert described_by(page, "request_review-public_text") == ["request_review-public_text-error"]


def test_a_box_left_unticked_says_the_usual_heading_and_names_the_box(client, db, file_case):
    receipt = file_case()
    csrf = open_track(client, receipt)
    with db.session_scope(write=False) as s:
        version = s.get(Case, receipt.case_id).version
    page = followed(client, client.post(f"/track/{receipt.case_number}/moves/withdraw",
                                        data={"csrf_token": csrf, "version": version})).get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert "<p>请检查标出的内容。</p>" in summary
    [(target, text)] = summary_links(page)
    assert target == "withdraw-confirm" and text == "确认撤回本案件：请勾选确认框，确认您要撤回本案件。"


@pytest.fixture
def respondent(client, db, services, mediation, make_staff):
    """A mediation request accepted, opened by its respondent: (receipt, code, csrf)."""
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    with db.session_scope() as s:
        code = perform(s, services, coordinator, s.get(Case, mediation.case_id), "accept_mediation").respondent_code
    with db.session_scope() as s:
        perform(s, services, Actor.respondent(mediation.case_id), s.get(Case, mediation.case_id), "respondent_consent")
    csrf = open_respond(client, mediation.case_number, code)
    return mediation, code, csrf


def open_respond(client, number, code, **carried):
    csrf = CSRF.search(client.get("/respond").get_data(as_text=True)).group(1)
    resp = client.post("/respond", data={"csrf_token": csrf, "number": number, "code": code, **carried})
    assert resp.status_code in (200, 303), resp.status_code
    return csrf if not carried else resp


def test_the_respondents_summary_names_the_field(client, db, respondent):
    receipt, _, csrf = respondent
    with db.session_scope(write=False) as s:
        version = s.get(Case, receipt.case_id).version
    page = followed(client, client.post(f"/respond/{receipt.case_number}/moves/respondent_request_recusal",
                                        data={"csrf_token": csrf, "version": version, "public_text": ""})
                    ).get_data(as_text=True)
    [(target, text)] = summary_links(page)
    assert target == "respondent_request_recusal-public_text" and text.startswith("申请哪位调解员回避及理由：")


# -- 3. look-ups: both fields marked alike ---------------------------------------------------------

def lookup_fields(page):
    return {fid: (attr(tag(page, fid), "aria-invalid"), described_by(page, fid)) for fid in ("number", "code")}


def test_a_failed_look_up_marks_both_fields_alike_for_a_wrong_code_and_an_unknown_number(client, file_case):
    receipt = file_case()
    fresh = client.get("/track").get_data(as_text=True)
    assert lookup_fields(fresh) == {"number": (None, []), "code": (None, ["code-hint"])}
    csrf = CSRF.search(fresh).group(1)
    wrong = client.post("/track", data={"csrf_token": csrf, "number": receipt.case_number, "code": "AAAA-BBBB-CCCC-DDDD"})
    unknown = client.post("/track", data={"csrf_token": csrf, "number": "TS20990101000000", "code": receipt.query_code})
    assert wrong.status_code == unknown.status_code == 404
    marked = {"number": ("true", ["lookup-error"]), "code": ("true", ["code-hint", "lookup-error"])}
    assert lookup_fields(wrong.get_data(as_text=True)) == lookup_fields(unknown.get_data(as_text=True)) == marked
    assert '<p id="lookup-error">' in wrong.get_data(as_text=True)


def test_a_failed_answer_code_marks_both_fields(client, mediation):
    csrf = CSRF.search(client.get("/respond").get_data(as_text=True)).group(1)
    resp = client.post("/respond", data={"csrf_token": csrf, "number": mediation.case_number, "code": "AAAA-BBBB-CCCC-DDDD"})
    assert resp.status_code == 404
    assert lookup_fields(resp.get_data(as_text=True)) == {
        "number": ("true", ["lookup-error"]), "code": ("true", ["code-hint", "lookup-error"])}


def test_my_cases_marks_the_phone_or_the_code(client, sms_code):
    csrf = CSRF.search(client.get("/mine").get_data(as_text=True)).group(1)
    bad = client.post("/mine", data={"csrf_token": csrf, "phone": "12345", "action": "send"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert attr(tag(page, "phone"), "aria-invalid") == "true" and described_by(page, "phone") == ["phone-error"]
    assert summary_links(page) == [("phone", "手机号码：请填写中国大陆手机号码（11位数字，例如 13800138000）。")]
    sent = client.post("/mine", follow_redirects=True, data={"csrf_token": csrf, "phone": "13800138000", "action": "send"}).get_data(as_text=True)
    vid = re.search(r'name="verification_id" value="([^"]+)"', sent).group(1)
    wrong = client.post("/mine", follow_redirects=True, data={"csrf_token": csrf, "phone": "13800138000", "verification_id": vid,
                                       "verify_code": "000000" if sms_code() != "000000" else "111111", "action": "check"})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert attr(tag(page, "verify_code"), "aria-invalid") == "true"
    assert described_by(page, "verify_code") == ["verify_code-hint", "verify_code-error"]
    assert attr(tag(page, "phone"), "aria-invalid") is None
    assert summary_links(page)[0][0] == "verify_code"


# -- 4. scrolling tables --------------------------------------------------------------------------

def test_each_scrolling_table_is_a_named_region_the_keyboard_reaches(client, db, file_case):
    file_case()
    refresh(db, lambda: datetime.now(timezone.utc))
    page = client.get("/stats").get_data(as_text=True)
    wraps = re.findall(r'<div class="table-wrap"[^>]*>', page)
    assert len(wraps) == 3  # the trend, the units, the categories
    for w in wraps:
        assert attr(w, "tabindex") == "0" and attr(w, "role") == "region" and attr(w, "aria-label")
    assert attr(wraps[0], "aria-label") == "月度趋势"
    assert ".table-wrap[tabindex]:focus" in client.get("/static/css/site.css").get_data(as_text=True)


# -- 5. the language of parts ----------------------------------------------------------------------

def test_chinese_text_on_the_english_status_page_says_so(client, opened):
    receipt, _, _ = opened
    zh = client.get(f"/track/{receipt.case_number}").get_data(as_text=True)
    assert attr(tag(zh, "reply-text"), "lang") is None and attr(tag(zh, "case-title"), "lang") is None
    client.get("/lang/en?next=/")
    en = client.get(f"/track/{receipt.case_number}").get_data(as_text=True)
    assert attr(tag(en, "reply-text"), "lang") == "zh-CN"  # written by the unit
    assert attr(tag(en, "case-title"), "lang") == "zh-CN"  # the case's own language
    timeline = en[en.index('class="timeline"'):]
    assert re.search(r'<p class="public-text" lang="zh-CN">经核查', timeline)


def test_chinese_text_on_the_english_respondent_page_says_so(client, respondent):
    receipt, _, _ = respondent
    client.get("/lang/en?next=/")
    page = client.get(f"/respond/{receipt.case_number}").get_data(as_text=True)
    for fid in ("request-title", "request-description", "claim", "mediator"):
        assert attr(tag(page, fid), "lang") == "zh-CN", fid


def test_an_english_lookup_marks_a_chinese_association_name(client, db):
    from sqlalchemy import update

    from casework.registry.models import Association

    with db.session_scope() as s:  # one the registry knows only in Chinese
        s.execute(update(Association).where(Association.credit_code == "51510000MJ99000013").values(name_en=None))
    client.get("/lang/en?next=/")
    csrf, token, _ = open_form(client)
    page = client.post("/file/complaint", data=form_data(csrf, token, action="find", association="",
                                                         association_q="zggt")).get_data(as_text=True)
    found = page[page.index('id="association-found-1"'):][:600]
    assert 'China Iron and Steel Association (<span lang="zh-CN">中钢协</span>)' in found
    # a name the registry has only in Chinese is marked as Chinese
    page = client.post("/file/complaint", data=form_data(csrf, token, action="find", association="",
                                                         association_q="协会")).get_data(as_text=True)
    results = page[page.index('id="association-results"'):page.index('id="association-unknown"')]
    names = re.findall(r'<span>(?:<span( lang="zh-CN")>)?([^<(]+?)(?:</span>| \(|<small>)', results)
    assert names and all(bool(lang) == bool(re.search(r"[\u4e00-\u9fff]", name)) for lang, name in names)
    assert (" lang=\"zh-CN\"", "四川省食品工业协会") in names
    # the Chinese page marks none of it
    client.get("/lang/zh_CN?next=/")
    page = client.post("/file/complaint", data=form_data(csrf, token, action="find", association="",
                                                         association_q="协会")).get_data(as_text=True)
    assert 'lang="zh-CN"' not in page[page.index('id="association-results"'):page.index('id="association-unknown"')]


# -- 6. a move's form that expired with the session ------------------------------------------------

def test_a_statement_sent_with_a_stale_token_comes_back_in_its_form(client, opened):
    receipt, _, post = opened
    statement = "协会至今仍在收取会费，附上最新的缴费通知。\n第二段。"
    resp = post("request_review", csrf="stale-token", public_text=statement)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert htmllib.unescape(re.search(r'<textarea id="request_review-public_text"[^>]*>([^<]*)</textarea>', page).group(1)) \
        == statement
    assert "此表单已过期" in page and summary_links(page) == [("request_review-public_text", "转到该表单")]
    # the page's new token sends it
    csrf = CSRF.search(page).group(1)
    assert post("request_review", csrf=csrf, public_text=statement).status_code == 303


def test_a_statement_sent_after_the_session_ran_out_survives_opening_the_case_again(app, db, opened):
    receipt, _, post = opened
    statement = "补充说明：协会于上周再次发出缴费通知。"
    later = app.test_client()  # the session cookie, with its token and the case's opening, is gone
    with db.session_scope(write=False) as s:
        version = s.get(Case, receipt.case_id).version
    resp = later.post(f"/track/{receipt.case_number}/moves/request_review",
                      data={"csrf_token": "", "version": version, "public_text": statement})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'id="expired-notice"' in page and 'name="resume" value="request_review"' in page
    kept = re.search(r'<textarea id="resume-public_text" name="resume.public_text"[^>]*>([^<]*)</textarea>', page)
    assert htmllib.unescape(kept.group(1)) == statement
    assert f'value="{receipt.case_number}"' in page
    # a wrong code keeps it too
    csrf = CSRF.search(page).group(1)
    carried = {"resume": "request_review", "resume.public_text": statement}
    wrong = later.post("/track", data={"csrf_token": csrf, "number": receipt.case_number, "code": "AAAA-BBBB-CCCC-DDDD",
                                       **carried})
    assert wrong.status_code == 404 and statement in wrong.get_data(as_text=True)
    # the right code opens the page with the statement back in its form
    opened_again = later.post("/track", data={"csrf_token": csrf, "number": receipt.case_number,
                                              "code": receipt.query_code, **carried})
    assert opened_again.status_code == 200
    page = opened_again.get_data(as_text=True)
    assert re.search(r'<textarea id="request_review-public_text"[^>]*>' + re.escape(statement) + "</textarea>", page)
    assert "此表单已过期" in page
    csrf = CSRF.search(page).group(1)
    sent = later.post(f"/track/{receipt.case_number}/moves/request_review",
                      data={"csrf_token": csrf, "version": version, "public_text": statement})
    assert sent.status_code == 303
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).state is S.under_review


def test_the_respondents_text_survives_an_expired_session(app, db, respondent):
    receipt, code, _ = respondent
    reason = "调解员与对方是亲属关系，请求回避。"
    later = app.test_client()
    with db.session_scope(write=False) as s:
        version = s.get(Case, receipt.case_id).version
    resp = later.post(f"/respond/{receipt.case_number}/moves/respondent_request_recusal",
                      data={"csrf_token": "", "version": version, "public_text": reason})
    assert resp.status_code == 400 and 'name="resume" value="respondent_request_recusal"' in resp.get_data(as_text=True)
    again = open_respond(later, receipt.case_number, code, resume="respondent_request_recusal",
                         **{"resume.public_text": reason})
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert re.search(r'<textarea id="respondent_request_recusal-public_text"[^>]*>' + re.escape(reason), page)


def test_an_expired_form_for_a_move_that_is_not_the_pages_is_the_usual_error(client, opened):
    receipt, _, _ = opened
    resp = client.post(f"/track/{receipt.case_number}/moves/accept", data={"csrf_token": "x", "public_text": "x"})
    assert resp.status_code == 400 and "resume" not in resp.get_data(as_text=True)


def test_another_sites_post_is_not_put_into_the_forms_as_the_persons_own_text(client, opened):
    """The recovery of an expired form shows what was sent as the person's own text: a page on
    another site could post a text of its choosing into the status page's form (and the filing
    form), for the person to send with their code. Only a form sent from this site comes back
    filled (Sec-Fetch-Site, else Origin); another site's gets the plain 400."""
    receipt, _, _ = opened
    planted = "我自愿撤回本案，不再追究协会责任。"
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        resp = client.post(f"/track/{receipt.case_number}/moves/request_review", headers=headers,
                           data={"csrf_token": "stale-token", "public_text": planted})
        assert resp.status_code == 400 and planted not in resp.get_data(as_text=True)
        filing = client.post("/file/complaint", headers=headers,
                             data={"csrf_token": "stale-token", "title": planted})
        assert filing.status_code == 400 and planted not in filing.get_data(as_text=True)
    same = client.post(f"/track/{receipt.case_number}/moves/request_review", headers={"Sec-Fetch-Site": "same-origin"},
                       data={"csrf_token": "stale-token", "public_text": planted})
    assert same.status_code == 400 and planted in same.get_data(as_text=True)
