"""What the complainant does on the status page: answer a request for material, rate,
ask for review, withdraw. POST only, with the case opened by number and code."""
import re

import pytest
from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S
from casework.registry.models import Unit
from casework.workflow.machine import perform
from tests.web.test_admin_routing import login_as
from tests.conftest import BASIS
from tests.refused_moves import followed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def opened(client, file_case):
    """A filed complaint, opened on the status page; returns (receipt, csrf, get_page)."""
    receipt = file_case()
    page = client.get("/track").get_data(as_text=True)
    csrf = CSRF.search(page).group(1)
    assert client.post("/track", data={"csrf_token": csrf, "number": receipt.case_number,
                                       "code": receipt.query_code}).status_code == 303

    def get():
        return client.get(f"/track/{receipt.case_number}").get_data(as_text=True)

    return receipt, csrf, get


def staff_move(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        perform(s, services, actor, s.get(Case, case_id), move, **fields)


def state(db, case_id):
    with db.session_scope(write=False) as s:
        c = s.get(Case, case_id)
        return c.state, c.version


def post(client, receipt, csrf, move, db, **data):
    return client.post(f"/track/{receipt.case_number}/moves/{move}",
                       data={"csrf_token": csrf, "version": state(db, receipt.case_id)[1], **data})


def test_the_status_page_shows_the_deadline(opened):
    receipt, csrf, get = opened
    assert re.search(r"受理决定：\d{4}-\d{2}-\d{2}前（含当日）", get())


def test_answering_a_request_for_material(client, db, services, make_staff, opened):
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")
    page = get()
    assert "请补充缴费凭证的照片。" in page and "计时暂停" in page
    # what was asked stands in the form itself, which takes files as well as an answer
    form = page.split('id="supply-form"')[1].split("</form>")[0]
    assert "请补充缴费凭证的照片。" in form and 'name="files" type="file"' in form
    # one form answers the request: the evidence form, which looked the same, waits until it is answered
    assert 'id="evidence-form"' not in page
    empty = followed(client, post(client, receipt, csrf, "supply_info", db, public_text=""))
    assert empty.status_code == 422 and "请填写答复或附上所要求的文件" in empty.get_data(as_text=True)
    ok = post(client, receipt, csrf, "supply_info", db, public_text="凭证已通过邮件寄出，编号 123。")
    assert ok.status_code == 303
    assert state(db, receipt.case_id)[0] is S.accepted
    after = get()  # what was done, in its own (green) notice
    assert re.search(r'<div class="notice done" role="status">[^<]*您的补正材料已送达办理单位', after)


def test_a_good_file_is_kept_when_the_send_is_refused_for_another(client, db, services, make_staff, opened):
    """The material sent with a good photo and a file that is no image came back with both gone; the
    good one is kept now, listed ticked, and goes with the next send (an unticked one does not)."""
    import io

    from casework.cases.models import Attachment
    from tests.web.test_read_cost import _png

    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")

    def send(**data):
        return client.post(f"/track/{receipt.case_number}/moves/supply_info", content_type="multipart/form-data",
                           data={"csrf_token": csrf, "version": state(db, receipt.case_id)[1], **data})

    refused = followed(client, send(public_text="凭证见附件。", files=[(io.BytesIO(_png()), "缴费凭证.png"),
                                                                   (io.BytesIO(b"not an image at all"), "假图.png")]))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "假图.png" in html  # the error names the file refused
    kept = re.search(r'<ul class="files kept" id="supply_info-kept">(.*?)</ul>', html, re.S)
    assert kept and "缴费凭证.png" in kept.group(1) and "假图.png" not in kept.group(1)
    assert re.search(r'name="keep_file" value="\d+" checked', kept.group(1))
    assert "缴费凭证.png" in get().split('id="supply-form"')[1]  # still kept when the page is opened again
    # a second refusal (a second good file, the first unticked): only the second is kept
    again = followed(client, send(public_text="凭证见附件。", files=[(io.BytesIO(_png()), "收据.png"),
                                                                 (io.BytesIO(b"still no image"), "假图.png")]))
    html = again.get_data(as_text=True)
    kept = re.search(r'id="supply_info-kept">(.*?)</ul>', html, re.S).group(1)
    assert "收据.png" in kept and "缴费凭证.png" not in kept
    receipt_id = re.search(r'name="keep_file" value="(\d+)"', kept).group(1)
    sent = send(public_text="凭证见附件。", keep_file=receipt_id)
    assert sent.status_code == 303
    assert state(db, receipt.case_id)[0] is S.accepted
    with db.session_scope(write=False) as s:
        names = [a.filename for a in s.scalars(select(Attachment).where(Attachment.case_id == receipt.case_id))]
        staged = s.scalar(select(func.count()).select_from(Attachment).where(Attachment.staging_token.is_not(None)))
    assert names == ["收据.png"] and staged == 0  # the kept copy became the move's; nothing left staged
    assert "收据.png" in get().split('class="timeline"')[1]


def test_the_material_asked_for_is_sent_as_files(client, db, services, make_staff, opened):
    """补正 with the photo asked for and no words: the case goes on (it stayed 待补正 when the photo
    could only be sent as evidence), and the file is on both timelines."""
    import io

    from tests.web.test_read_cost import _png

    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")
    sent = client.post(f"/track/{receipt.case_number}/moves/supply_info", content_type="multipart/form-data",
                       data={"csrf_token": csrf, "version": state(db, receipt.case_id)[1],
                             "files": (io.BytesIO(_png()), "缴费凭证.png")})
    assert sent.status_code == 303, sent.get_data(as_text=True)
    assert state(db, receipt.case_id)[0] is S.accepted
    assert "缴费凭证.png" in get().split('class="timeline"')[1]
    desk = client.application.test_client()
    login_as(desk, db, handler)
    assert "缴费凭证.png" in desk.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True).split('id="timeline"')[1]
    # and the unit's queue marks the case 新材料 until staff act on it
    with db.session_scope(write=False) as s:
        miit = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    queue = desk.get(f"/desk/units/{miit}?tab=handling").get_data(as_text=True)
    row = queue[queue.index(f'id="row-{receipt.case_number}"'):]
    assert "新材料" in row[:row.index("</tr>")]


def test_rating_closes_a_satisfied_case(client, db, services, make_staff, opened):
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，协会已退还会费并停止强制入会。")
    page = get()
    assert "经核查，协会已退还会费并停止强制入会。" in page and 'id="rate-form"' in page
    # the reply is read above the form that rates it (it was only in the timeline, below the forms)
    reply = page.index('id="the-reply"')
    assert reply < page.index("经核查，协会已退还会费并停止强制入会。") < page.index('id="rate-form"')
    assert "答复内容" in page[reply:page.index('id="rate-form"')]
    # a satisfied rating gives up the review: the form says so before it is sent
    assert re.search(r'id="rating-closes">[^<]*不能再申请复查', page)
    assert 'id="withdraw-form"' not in page
    missing = followed(client, post(client, receipt, csrf, "rate", db))
    assert missing.status_code == 422 and 'id="rating-error"' in missing.get_data(as_text=True)
    assert post(client, receipt, csrf, "rate", db, rating="satisfied", public_text="处理及时。").status_code == 303
    assert state(db, receipt.case_id)[0] is S.closed


def test_review_then_re_review_then_final(client, db, services, make_staff, opened):
    """信访工作条例 第三十五、三十六条: the page names the body one level up and the date to ask by."""
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，未发现强制入会情况。")
    assert "中央社会工作部" in get().split('id="review-where"')[1][:300]  # the level above 工业和信息化部
    assert post(client, receipt, csrf, "request_review", db, public_text="协会仍在要求缴费，附通知。").status_code == 303
    assert state(db, receipt.case_id)[0] is S.under_review
    assert "中央社会工作部" in get().split('id="review-body"')[1][:200]
    upper = make_staff("swd-central", Role.handler)
    staff_move(db, services, upper, receipt.case_id, "decide_review", opinion="supported", legal_basis=BASIS, public_text="复查后维持原答复意见。")
    assert post(client, receipt, csrf, "request_review", db, public_text="仍不满意，申请复核。").status_code == 303
    assert state(db, receipt.case_id)[0] is S.under_re_review  # no level above 中央社会工作部: triage names one
    triage = make_staff("triage", Role.triage_operator)
    with db.session_scope(write=False) as s:
        ndrc = s.scalar(select(Unit.id).where(Unit.code == "ndrc"))
    staff_move(db, services, triage, receipt.case_id, "route_review", unit_id=str(ndrc))
    staff_move(db, services, make_staff("ndrc", Role.handler), receipt.case_id, "decide_review", opinion="not_supported",
               legal_basis=BASIS, finding="not_substantiated", public_text="复核决定：未发现强制入会情况，请求不予支持。")
    assert state(db, receipt.case_id)[0] is S.closed
    # the final opinion and finding are the re-review's (第三十六条), not the reply's the page showed before
    page = get()
    assert '<dt>对您请求的处理意见</dt><dd id="opinion">不予支持</dd>' in page
    assert '<dd id="finding">不属实</dd>' in page
    refused = followed(client, post(client, receipt, csrf, "request_review", db, public_text="再申请一次。"))
    assert refused.status_code == 422


def ids(page: str) -> list[str]:
    return re.findall(r'\bid="([^"]+)"', page)


def test_each_form_on_the_status_page_has_ids_of_its_own(client, db, services, make_staff, opened):
    """Issue 16 (8): the rating's comment and the review's reason were both id="public_text", so
    the review's label focused the rating box; after a 复查 decision the page offers 申请复核 only."""
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，未发现强制入会情况。")
    page = get()
    assert 'id="rate-form"' in page and 'id="review-form"' in page
    assert len(ids(page)) == len(set(ids(page)))
    assert 'id="public_text"' not in page
    review = page.split('id="review-form"')[1].split("</form>")[0]
    assert 'for="request_review-public_text"' in review and 'id="request_review-public_text"' in review
    rate = page.split('id="rate-form"')[1].split("</form>")[0]
    assert 'for="rate-public_text"' in rate and 'id="rate-public_text"' in rate
    short = followed(client, post(client, receipt, csrf, "request_review", db, public_text=""))
    assert short.status_code == 422 and 'id="request_review-public_text-error"' in short.get_data(as_text=True)
    # the message at the top links down to the marked field itself, named, which may be screens below
    assert ('<a href="#request_review-public_text" id="to-failed-form">不满意的理由：此项为必填项。</a>'
            in short.get_data(as_text=True))
    assert post(client, receipt, csrf, "request_review", db, public_text="协会仍在要求缴费，附通知。").status_code == 303
    staff_move(db, services, make_staff("swd-central", Role.handler), receipt.case_id, "decide_review", opinion="supported", legal_basis=BASIS,
               public_text="复查后维持原答复意见。")
    page = get()
    review = page.split('id="review-form"')[1].split("</form>")[0]
    assert "申请复核" in review and "申请复查" not in review
    assert len(ids(page)) == len(set(ids(page)))


def test_withdrawing_asks_for_a_ticked_confirmation(client, db, opened):
    """Issue 16 (8): one tap did not withdraw: the box is marked required and checked by the
    server, whose message is in the page's language (the form is novalidate, like every form of
    the status page: the browser's own bubble speaks the browser's language, not the page's)."""
    receipt, csrf, get = opened
    page = get()
    forms = re.findall(r'<form method="post"[^>]*>', page)
    assert [f for f in forms if "/moves/" in f] and all("novalidate" in f for f in forms if "/moves/" in f)
    form = page.split('id="withdraw-form"')[1].split("</form>")[0]
    assert re.search(r'<input id="withdraw-confirm" name="confirm" type="checkbox" value="1" required', form)
    assert 'for="withdraw-confirm"' in form and 'id="withdraw-public_text"' in form
    resp = followed(client, post(client, receipt, csrf, "withdraw", db, public_text="已与协会协商解决。"))
    assert resp.status_code == 422 and state(db, receipt.case_id)[0] is S.pending_acceptance
    page = resp.get_data(as_text=True)
    assert 'id="withdraw-confirm-error"' in page and "确认" in page
    assert "已与协会协商解决。" in page  # what was typed is kept
    assert post(client, receipt, csrf, "withdraw", db, public_text="已与协会协商解决。", confirm="1").status_code == 303
    assert state(db, receipt.case_id)[0] is S.withdrawn


def test_withdraw_before_a_reply(client, db, opened):
    receipt, csrf, get = opened
    assert 'id="withdraw-form"' in get()
    assert post(client, receipt, csrf, "withdraw", db, public_text="已与协会协商解决。", confirm="1").status_code == 303
    assert state(db, receipt.case_id)[0] is S.withdrawn
    assert "您的案件已撤回" in get()


def test_moves_need_the_opened_case_and_a_csrf_token(client, db, file_case, opened):
    receipt, csrf, get = opened
    other = file_case()
    resp = client.post(f"/track/{other.case_number}/moves/withdraw", data={"csrf_token": csrf, "version": 1})
    assert resp.status_code == 303 and state(db, other.case_id)[0] is S.pending_acceptance
    assert client.post(f"/track/{receipt.case_number}/moves/withdraw", data={"version": 1}).status_code == 400
    assert client.get(f"/track/{receipt.case_number}/moves/withdraw").status_code == 405
    assert post(client, receipt, csrf, "accept", db).status_code == 404  # not a complainant's move


def test_the_api_answers_a_request_for_material_with_a_file(client, db, services, make_staff, file_case):
    import base64

    from tests.web.test_read_cost import _png

    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "request_info", public_text="请补充缴费凭证的照片。")
    resp = client.post(f"/api/v1/cases/{receipt.case_number}/answer", headers={"X-Query-Code": receipt.query_code},
                       json={"files": [{"name": "凭证.png", "content_base64": base64.b64encode(_png()).decode()}]})
    assert resp.status_code == 200 and resp.get_json()["state"] == "accepted", resp.get_json()
    [supplied] = [e for e in resp.get_json()["timeline"] if e["kind"] == "info_supplied"]
    assert [f["filename"] for f in supplied["files"]] == ["凭证.png"]


def rate_form(page: str) -> str:
    start = page.index('id="rate-form"')
    return page[page.rfind("<form", 0, start):page.index("</form>", start)]


def test_a_dissatisfied_rating_folds_the_rating_under_change_your_rating(client, db, services, make_staff, opened):
    """Rated 不满意 with a review still open, the page asked "您对答复满意吗？" again with a primary
    button above the review: as if the rating had not been taken. It is now folded under 修改评价
    with the rating given checked; after the review's decision the new answer is rated afresh."""
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    staff_move(db, services, handler, receipt.case_id, "reply", opinion="supported", legal_basis=BASIS, public_text="经核查，未发现强制入会情况。")
    page = get()
    assert "<h2>您对答复满意吗？</h2>" in page and 'id="rate-change"' not in page
    assert post(client, receipt, csrf, "rate", db, rating="dissatisfied").status_code == 303
    page = get()
    assert re.search(r'<details class="card" id="rate-change">\s*<summary>修改评价</summary>', page)
    assert 'value="dissatisfied" checked' in rate_form(page) and 'class="secondary">提交评价' in rate_form(page)
    assert page.index('id="rate-change"') < page.index('id="review-form"')
    assert post(client, receipt, csrf, "request_review", db, public_text="协会仍在要求缴费，附通知。").status_code == 303
    staff_move(db, services, make_staff("swd-central", Role.handler), receipt.case_id, "decide_review", opinion="supported", legal_basis=BASIS,
               public_text="复查后维持原答复意见。")
    page = get()
    assert "<h2>您对答复满意吗？</h2>" in page and 'id="rate-change"' not in page
    assert "checked" not in rate_form(page)
