"""What happens next, and by when, where a complainant looks for it: the receipt says it as the
status page does (one function, web.presenters.step_and_date), and says truly how long the query
code shows; a reply waiting for its rating gives the rating's last day and what happens without
one; a 复查 decision is headed as one, not "复查（复核）"."""
import re
from datetime import timedelta

from casework.accounts.models import Role
from casework.cases.models import Case, CaseType, Stage
from casework.deadlines.calendar import china_date
from casework.deadlines.limits import Deadlines
from tests.conftest import BASIS
from tests.web.test_admin_routing import login_as
from tests.web.test_public_moves import CSRF, opened, post, staff_move  # noqa: F401  (opened is a fixture)
from tests.web.test_public_pages import form_data, open_form
from tests.web.test_receipt_redirect import RECEIPT_AT, send

STEP = re.compile(r'<p id="next-step">([^<]+)</p>\s*<p id="deadline">([^<]+)</p>')


def test_the_receipt_says_what_happens_next_and_by_when_as_the_status_page_does(client, db):
    csrf, token, _ = open_form(client)
    where = send(client, form_data(csrf, token)).headers["Location"]
    number = RECEIPT_AT.match(where).group(1)
    receipt = client.get(where).get_data(as_text=True)
    said = STEP.search(receipt)
    assert said, receipt
    assert "负责单位将在所示日期前（含当日）决定是否受理您的投诉并告知您" in said.group(1)
    assert re.fullmatch(r"\s*受理决定：\d{4}-\d{2}-\d{2}前（含当日）\s*", said.group(2))
    # the code shows in this browser for the receipt's minutes, and the page says so (it said
    # "only this once" while a reload showed it again)
    assert "仅在本浏览器中显示，显示时间为提交后10分钟" in receipt and "只显示这一次" not in receipt
    # the status page, opened from the receipt with the code, says the same
    code = re.search(r'id="query-code"[^>]*>([0-9A-Z-]+)<', receipt).group(1)
    assert client.post("/track", data={"csrf_token": CSRF.search(receipt).group(1), "number": number,
                                       "code": code}).status_code == 303
    status = STEP.search(client.get(f"/track/{number}").get_data(as_text=True))
    assert (status.group(1), status.group(2).strip()) == (said.group(1), said.group(2).strip())
    # on paper too
    printed = client.get(f"/file/complaint/receipt/{number}/print").get_data(as_text=True)
    assert STEP.search(printed).group(2).strip() == said.group(2).strip()
    # in English, in the same words as the English status page
    client.set_cookie("lang", "en")
    english = client.get(where).get_data(as_text=True)
    assert "The responsible unit will decide whether to accept your complaint" in english
    assert "shown only in this browser, for 10 minutes after filing" in english and "only this once" not in english
    # anyone else with the number only: nothing read, nothing of the case said (not even whether
    # it exists), the minutes said
    other = client.application.test_client()
    bare = other.get(where).get_data(as_text=True)
    assert 'id="next-step"' not in bare and 'id="deadline"' not in bare
    assert "仅在提交案件的浏览器中显示，显示时间为提交后10分钟" in bare


def _replied(db, services, make_staff, receipt):
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS,
               public_text="经核查，协会已停止要求企业入会。")
    with db.session_scope(write=False) as s:
        return s.get(Case, receipt.case_id).stage_started_at


def test_a_replied_complaint_gives_the_rating_date_and_what_happens_without_a_rating(client, db, services,
                                                                                    make_staff, opened):
    """The rating's window is the design's 15 calendar days (casework.deadlines.limits: no statute
    sets one); the review's is 30 days from the written reply (信访工作条例 第三十五条: 可以自收到
    书面答复之日起30日内请求…复查). The case stays open for the review after the rating's last day;
    with neither a rating nor a review by the review's date, the sweep closes it as not rated
    (close_unrated). Once rated, no rating date is given."""
    receipt, csrf, get = opened
    replied_at = _replied(db, services, make_staff, receipt)
    page = get()
    rating_by = Deadlines.defaults().explain(CaseType.complaint, Stage.rating, replied_at).end
    review_by = Deadlines.defaults().explain(CaseType.complaint, Stage.review_request, replied_at).end
    assert rating_by - china_date(replied_at) >= timedelta(days=15)
    assert review_by - china_date(replied_at) >= timedelta(days=30)  # 信访工作条例 第三十五条
    assert f"申请复查期限：{review_by.isoformat()}前（含当日）" in page
    said = page.split('id="rating-deadline">')[1].split("</p>")[0]
    assert f"评价答复期限：{rating_by.isoformat()}前（含当日）" in said
    assert f"逾期未评价，且在{review_by.isoformat()}前未申请复查的，案件按未评价予以办结。" in said
    # rated (不满意, the review still open): no rating date any more
    assert post(client, receipt, csrf, "rate", db, rating="dissatisfied").status_code == 303
    assert 'id="rating-deadline"' not in get() and "申请复查期限" in get()


def test_the_rating_deadline_on_the_status_page_follows_the_apps_clock(app, client, db, services, make_staff, opened,
                                                                       monkeypatch):
    """The status page is made for the app's moment (web.requestdb.services().clock(), as the case
    API's kept answers are): the rating's last day, and the form to rate, stand until that moment
    passes the rating's end, whatever the wall clock says (it said so after the app's moment had
    passed it, offering a rating the move then refused)."""
    from dataclasses import replace

    from casework.workflow.handling import rating_due

    receipt, csrf, get = opened
    _replied(db, services, make_staff, receipt)
    with db.session_scope(write=False) as s:
        due = rating_due(s.get(Case, receipt.case_id))

    def page_at(when):
        monkeypatch.setitem(app.extensions, "changtong.services", replace(services, clock=lambda: when))
        return get()

    before = page_at(due - timedelta(minutes=1))
    assert 'id="rating-deadline"' in before and 'id="rate-form"' in before
    after = page_at(due + timedelta(minutes=1))
    assert 'id="rating-deadline"' not in after and 'id="rate-form"' not in after
    assert "申请复查期限" in after  # the review may still be asked (its 30 days)


def test_an_answered_suggestion_says_it_closes_unrated_after_its_rating_date(client, db, make_staff, services,
                                                                           file_case):
    suggestion = file_case(type="suggestion", category="policy", title="公开会费标准",
                           description="建议协会在网站上公开会费标准和收支情况。")
    staff_move(db, services, make_staff("miit", Role.handler), suggestion.case_id, "acknowledge_reply",
               public_text="感谢建议，已要求协会在网站公开会费标准。")
    page = client.get("/track").get_data(as_text=True)
    assert client.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": suggestion.case_number,
                                       "code": suggestion.query_code}).status_code == 303
    page = client.get(f"/track/{suggestion.case_number}").get_data(as_text=True)
    assert re.search(r"评价答复期限：\d{4}-\d{2}-\d{2}前（含当日）", page)
    assert "逾期未评价的，案件按未评价予以办结。" in page.split('id="rating-deadline">')[1].split("</p>")[0]


def test_a_review_decision_is_named_a_review_decision_on_the_status_page_and_the_desk(client, db, services,
                                                                                     make_staff, opened):
    """信访工作条例 第三十五条 (复查) and 第三十六条 (复核): one move decides either, and what it
    decided is named as what it was."""
    receipt, csrf, get = opened
    _replied(db, services, make_staff, receipt)
    assert post(client, receipt, csrf, "request_review", db, public_text="协会仍在要求缴费，请求复查。").status_code == 303
    desk = client.application.test_client()
    login_as(desk, db, make_staff("swd-central", Role.handler))
    form = desk.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    with db.session_scope(write=False) as s:
        version = s.get(Case, receipt.case_id).version
    done = desk.post(f"/desk/cases/{receipt.case_number}/moves/decide_review", follow_redirects=True, data={
        "csrf_token": CSRF.search(form).group(1), "version": version, "opinion": "supported",
        "legal_basis": BASIS, "public_text": "经复查，维持原处理意见，责令协会停止强制入会。"})
    flashed = done.get_data(as_text=True)
    assert "已完成：作出复查决定。" in flashed and "复查（复核）" not in flashed
    page = get()
    heading = page.split('id="the-reply">')[1].split("</h2>")[0]
    assert "复查意见" in heading and "复核" not in heading
