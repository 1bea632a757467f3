"""What the complainant does after filing (issue 16): add evidence (a statement and/or files)
while the case is open, and urge (催办) a case whose handling deadline has passed; both on the
public and the desk timeline, and marked in the handler's queue. A handler's reply may carry
documents, which the complainant downloads from the status page."""
import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Attachment, Case, EventKind
from casework.notify.models import OutboxMessage
from casework.registry.models import Unit
from casework.workflow.machine import perform

from tests.web.test_admin_routing import login_as
from tests.web.test_public_moves import opened  # noqa: F401 (a fixture)
from tests.conftest import BASIS
from tests.refused_moves import followed

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def png(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


# `opened`: a filed complaint opened on the status page, (receipt, csrf, get_page)


def version(db, case_id):
    with db.session_scope(write=False) as s:
        return s.get(Case, case_id).version


def staff_move(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        perform(s, services, actor, s.get(Case, case_id), move, **fields)


def past_deadline(db, services, case_id, hours=1):
    """The handling deadline an hour ago (the web app's clock is the real one)."""
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == case_id).values(due_at=services.clock() - timedelta(hours=hours)))


def test_adding_a_statement_and_a_photo(client, db, opened, make_staff):
    receipt, csrf, get = opened
    page = get()
    assert 'id="evidence-form"' in page and 'enctype="multipart/form-data"' in page
    empty = followed(client, client.post(f"/track/{receipt.case_number}/moves/add_evidence",
                                         data={"csrf_token": csrf, "version": version(db, receipt.case_id)},
                                         headers={"Accept-Language": "zh-CN"}))
    assert empty.status_code == 422 and "请填写陈述或附上文件" in empty.get_data(as_text=True)
    assert "请重新选择文件" not in empty.get_data(as_text=True)  # none was chosen: none to choose again
    fake = followed(client, client.post(
        f"/track/{receipt.case_number}/moves/add_evidence", content_type="multipart/form-data",
        data={"csrf_token": csrf, "version": version(db, receipt.case_id),
              "files": (io.BytesIO(b"<html>not an image</html>"), "photo.png")},
        headers={"Accept-Language": "zh-CN"}))
    assert fake.status_code == 422 and "photo.png" in fake.get_data(as_text=True)
    # the refused file is named beside the field; nothing passed the checks, so nothing is listed as kept
    assert 'id="add_evidence-kept"' not in fake.get_data(as_text=True)
    ok = client.post(f"/track/{receipt.case_number}/moves/add_evidence", content_type="multipart/form-data",
                     data={"csrf_token": csrf, "version": version(db, receipt.case_id),
                           "public_text": "协会又发来了催缴会费的通知，见附件。",
                           "files": (io.BytesIO(png()), "通知.png")},
                     headers={"Accept-Language": "zh-CN"})
    assert ok.status_code == 303
    page = get()
    assert "补充的材料已加入案件" in page
    timeline = page[page.index('class="timeline"'):]
    assert "补充证据" in timeline and "协会又发来了催缴会费的通知，见附件。" in timeline and "通知.png" in timeline
    with db.session_scope(write=False) as s:
        case = s.get(Case, receipt.case_id)
        att = [a for a in case.attachments if a.filename == "通知.png"]
        assert len(att) == 1 and not att[0].from_staff and att[0].content_type == "image/png"
        assert att[0].event.kind is EventKind.evidence_added
    # the handler sees it: on the case page (file to download) and marked in the queue
    handler = make_staff("miit", Role.handler)
    login_as(client, db, handler)
    desk = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    assert "协会又发来了催缴会费的通知，见附件。" in desk and f"/files/{att[0].id}" in desk
    said = desk[:desk.index("协会又发来了催缴会费的通知，见附件。")]
    said = said[said.rindex('class="label"'):]
    assert "本人所述" in said and "告知投诉人" not in said  # the complainant's words, not words to them
    assert client.get(f"/desk/cases/{receipt.case_number}/files/{att[0].id}").data.startswith(b"\x89PNG")
    with db.session_scope(write=False) as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "miit"))
    queue = client.get(f"/desk/units/{unit_id}?tab=pending", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    row = queue[queue.index(f'id="row-{receipt.case_number}"'):]
    row = row[:row.index("</tr>")]
    assert "新材料" in row and "已催办" not in row


def test_a_closed_case_takes_no_more_evidence(client, db, services, opened, make_staff):
    receipt, csrf, get = opened
    staff_move(db, services, make_staff("miit", Role.handler), receipt.case_id, "not_accept",
               reason="no_clear_request", public_text="本单位无权处理，请向市场监管部门反映。")
    assert 'id="evidence-form"' not in get()
    resp = followed(client, client.post(f"/track/{receipt.case_number}/moves/add_evidence", data={
        "csrf_token": csrf, "version": version(db, receipt.case_id), "public_text": "还有一件事。"}))
    assert resp.status_code == 422


def test_urging_only_after_the_deadline_and_once(client, db, services, opened, make_staff):
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    assert 'id="urge-form"' not in get()
    early = followed(client, client.post(f"/track/{receipt.case_number}/moves/urge",
                                         data={"csrf_token": csrf, "version": version(db, receipt.case_id)},
                                         headers={"Accept-Language": "zh-CN"}))
    assert early.status_code == 422 and "办理时限届满后才能催办" in early.get_data(as_text=True)
    with db.session_scope() as s:
        s.get(Unit, s.get(Case, receipt.case_id).unit_id).notice_email = "office@miit.example.cn"
    past_deadline(db, services, receipt.case_id)
    assert 'id="urge-form"' in get()
    ok = client.post(f"/track/{receipt.case_number}/moves/urge",
                     data={"csrf_token": csrf, "version": version(db, receipt.case_id), "public_text": "已超期，请尽快处理。"})
    assert ok.status_code == 303
    page = get()
    assert "已催促办理单位" in page and "催办" in page[page.index('class="timeline"'):]
    assert 'id="urge-form"' not in page  # once per deadline
    again = followed(client, client.post(f"/track/{receipt.case_number}/moves/urge",
                                         data={"csrf_token": csrf, "version": version(db, receipt.case_id)},
                                         headers={"Accept-Language": "zh-CN"}))
    assert again.status_code == 422 and "已就本次办理时限催办" in again.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        sent = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == receipt.case_id,
                                                     OutboxMessage.template == "case_urged")).all()
        assert len(sent) == 1
    # the handler's queue marks it until staff act on the case
    login_as(client, db, handler)
    with db.session_scope(write=False) as s:
        unit_id = s.get(Case, receipt.case_id).unit_id
    queue = client.get(f"/desk/units/{unit_id}?tab=handling", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    row = queue[queue.index(f'id="row-{receipt.case_number}"'):]
    assert "已催办" in row[:row.index("</tr>")]
    desk = client.get(f"/desk/cases/{receipt.case_number}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "已超期，请尽快处理。" in desk
    staff_move(db, services, handler, receipt.case_id, "note", internal_text="已电话联系协会。")
    queue = client.get(f"/desk/units/{unit_id}?tab=handling", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    row = queue[queue.index(f'id="row-{receipt.case_number}"'):]
    assert "已催办" not in row[:row.index("</tr>")]


def test_an_anonymous_reporter_adds_evidence_and_urges(client, db, services, file_case, make_staff):
    receipt = file_case(type="report", category="illegal_fees", title="协会违规收费", anonymous=True,
                        complainant={}, description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    page = client.get("/track").get_data(as_text=True)
    csrf = CSRF.search(page).group(1)
    client.post("/track", data={"csrf_token": csrf, "number": receipt.case_number, "code": receipt.query_code})
    staff_move(db, services, make_staff("miit", Role.handler), receipt.case_id, "accept")
    past_deadline(db, services, receipt.case_id)
    for move, data in (("add_evidence", {"public_text": "又收到一份缴费通知。"}), ("urge", {})):
        resp = client.post(f"/track/{receipt.case_number}/moves/{move}",
                           data={"csrf_token": csrf, "version": version(db, receipt.case_id), **data})
        assert resp.status_code == 303, move
    with db.session_scope(write=False) as s:
        kinds = [e.kind for e in s.get(Case, receipt.case_id).events]
        assert EventKind.evidence_added in kinds and EventKind.urged in kinds


def test_a_reply_with_a_document_the_complainant_downloads(client, db, services, opened, make_staff, file_case):
    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    login_as(client, db, handler)
    desk = client.get(f"/desk/cases/{receipt.case_number}").get_data(as_text=True)
    form = desk[desk.index('id="move-reply"'):]
    form = form[:form.index("</form>")]
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form and 'name="files"' in form
    resp = client.post(f"/desk/cases/{receipt.case_number}/moves/reply", content_type="multipart/form-data",
                       data={"csrf_token": CSRF.search(desk).group(1), "version": version(db, receipt.case_id),
                             "public_text": "经核查，协会已退还会费并停止强制入会，退款凭证见附件。",
                             "finding": "substantiated", "opinion": "supported", "legal_basis": BASIS,
                             "files": (io.BytesIO(png((10, 120, 10))), "退款凭证.png")})
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    with db.session_scope(write=False) as s:
        att = s.scalar(select(Attachment).where(Attachment.case_id == receipt.case_id, Attachment.from_staff))
        assert att.filename == "退款凭证.png" and att.event.kind is EventKind.replied
        att_id = att.id
    page = client.get("/track").get_data(as_text=True)
    client.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": receipt.case_number,
                                "code": receipt.query_code})
    page = get()
    timeline = page[page.index('class="timeline"'):]
    assert f"/track/{receipt.case_number}/files/{att_id}" in timeline and "退款凭证.png" in timeline
    dl = client.get(f"/track/{receipt.case_number}/files/{att_id}")
    assert dl.status_code == 200 and dl.data.startswith(b"\x89PNG") and dl.headers["Cache-Control"] == "no-store"
    # not through another case's page, and not without the case opened in this browser
    other = file_case()
    client.post("/track", data={"csrf_token": CSRF.search(page).group(1), "number": other.case_number,
                                "code": other.query_code})
    assert client.get(f"/track/{other.case_number}/files/{att_id}").status_code == 404
    client.post(f"/track/{receipt.case_number}/leave", data={"csrf_token": CSRF.search(page).group(1)})
    assert client.get(f"/track/{receipt.case_number}/files/{att_id}").status_code == 302


def test_the_staff_api_replies_with_a_document(client, db, services, opened, make_staff):
    """The staff API takes a reply's documents as base64, through the same cleaning."""
    import base64

    from casework.accounts.models import User
    from casework.accounts.operations import issue_token

    receipt, csrf, get = opened
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    with db.session_scope() as s:
        token = issue_token(s, s.get(User, handler.user_id), "test")
    auth = {"Authorization": f"Bearer {token}"}
    body = {"version": version(db, receipt.case_id), "public_text": "经核查，协会已退还会费，退款凭证见附件。",
            "finding": "substantiated", "opinion": "supported", "legal_basis": BASIS,
            "files": [{"name": "凭证.exe", "content_base64": base64.b64encode(b"MZ...").decode()}]}
    bad = client.post(f"/api/v1/desk/cases/{receipt.case_number}/reply", json=body, headers=auth)
    assert bad.status_code == 422 and "files" in bad.get_json()["errors"]
    body["files"] = [{"name": "凭证.png", "content_base64": base64.b64encode(png()).decode()}]
    ok = client.post(f"/api/v1/desk/cases/{receipt.case_number}/reply", json=body, headers=auth)
    assert ok.status_code == 200, ok.get_json()
    assert "凭证.png" in get()[get().index('class="timeline"'):]


def test_a_phone_photo_of_some_megabytes_is_taken(client, db, opened):
    """Evidence is photos: a body of a few megabytes reaches the move (the forms and the API that
    take files have the filing form's upload limit, not the small limit of text forms)."""
    import base64
    import os

    receipt, csrf, get = opened
    out = io.BytesIO()
    Image.frombytes("RGB", (900, 800), os.urandom(900 * 800 * 3)).save(out, format="PNG")
    photo = out.getvalue()
    assert len(photo) > 2 * 1024 * 1024
    resp = client.post(f"/track/{receipt.case_number}/moves/add_evidence", content_type="multipart/form-data",
                       data={"csrf_token": csrf, "version": version(db, receipt.case_id),
                             "files": (io.BytesIO(photo), "现场照片.png")})
    assert resp.status_code == 303
    api = client.post(f"/api/v1/cases/{receipt.case_number}/add_evidence", headers={"X-Query-Code": receipt.query_code},
                      json={"files": [{"name": "现场照片2.png", "content_base64": base64.b64encode(photo).decode()}]})
    assert api.status_code == 200, api.status_code
    page = get()
    assert "现场照片.png" in page and "现场照片2.png" in page


def test_a_reporters_files_are_kept_by_their_place_not_their_names(client, db, make_staff):
    """A report's identity is shown only through an audited reveal (docs/security.md), yet the
    names of a reporter's files reached the desk and the download: 王小明_付款记录.png named the
    anonymous reporter. A reporter's files are kept as 附件1, 附件2, …, from the form and from the
    status page alike; the form says so. A handler's own files keep their names."""
    from tests.web.test_public_pages import form_data, open_form

    csrf, token, html = open_form(client, "report")
    assert "为保护您，文件名不会保存" in html
    filed = client.post("/file/report", content_type="multipart/form-data", follow_redirects=True, data=form_data(
        csrf, token, anonymous="1", category="illegal_fees", **{"complainant.name": "", "complainant.phone": ""},
        attachments=[(io.BytesIO(png()), "王小明_付款记录.png")]))
    html = filed.get_data(as_text=True)
    number = re.search(r'id="case-number"[^>]*>([A-Z0-9]+)<', html).group(1)
    code = re.search(r'id="query-code"[^>]*>([0-9A-Z-]+)<', html).group(1)
    assert client.post("/track", data={"csrf_token": CSRF.search(client.get("/track").get_data(as_text=True)).group(1),
                                       "number": number, "code": code}).status_code == 303
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        case_id, v = case.id, case.version
    added = client.post(f"/track/{number}/moves/add_evidence", content_type="multipart/form-data",
                        data={"csrf_token": csrf, "version": v, "public_text": "补充一张收据的照片。",
                              "files": (io.BytesIO(png((0, 0, 200))), "王小明_收据.png")})
    assert added.status_code == 303
    with db.session_scope(write=False) as s:
        names = [a.filename for a in sorted(s.get(Case, case_id).attachments, key=lambda a: a.id)]
    assert names == ["附件1.png", "附件2.png"]
    with db.session_scope(write=False) as s:
        unit_code = s.get(Case, case_id).unit.code
    desk = client.application.test_client()
    login_as(desk, db, make_staff(unit_code, Role.handler))
    page = desk.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "附件1.png" in page and "附件2.png" in page and "王小明" not in page
