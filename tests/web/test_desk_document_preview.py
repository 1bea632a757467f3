"""A written notice (书面告知) previewed from the move's form before it is issued: the PDF the move
would make with what is typed, marked 预览·未发出 on every page; the case, its timeline, its documents,
the outbox and the file store are as they were."""
import io
import re

from pypdf import PdfReader
from sqlalchemy import func, select

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState, Event
from casework.documents.models import CaseDocument
from casework.notify.models import OutboxMessage
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def _counts(db, number):
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        return (case.state, case.unit_id, case.version,
                s.scalar(select(func.count()).select_from(Event).where(Event.case_id == case.id)),
                s.scalar(select(func.count()).select_from(CaseDocument).where(CaseDocument.case_id == case.id)),
                s.scalar(select(func.count()).select_from(OutboxMessage)))


def _files(settings):
    return sorted(p for p in settings.upload_dir.rglob("*") if p.is_file()) if settings.upload_dir.exists() else []


def test_a_transfer_notice_previewed_then_nothing_changed(client, db, settings, file_case, make_staff, cjk_pdf):
    number = file_case().case_number
    login_as(client, db, make_staff("miit", Role.handler))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    form = page.split('id="move-transfer"')[1].split("</form>")[0]
    assert 'id="preview-transfer"' in form and 'formtarget="_blank"' in form and "预览书面告知" in form
    assert 'id="preview-note"' not in page  # a note issues no notice
    before, files_before = _counts(db, number), _files(settings)
    with db.session_scope(write=False) as s:
        mca = s.scalar(select(Unit.id).where(Unit.code == "mca"))
    resp = client.post(f"/desk/cases/{number}/moves/transfer/preview", data={
        "csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1), "unit_id": str(mca),
        "reason": "other_unit_competent", "public_text": "您反映的事项属民政部门职责，已转送民政部办理。"})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "inline" in resp.headers["Content-Disposition"] and "no-store" in resp.headers["Cache-Control"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.get_data())).pages)
    assert "转送告知书" in text and "民政部" in text and number in text
    assert "预览" in text and "PREVIEW" in text  # marked: never taken for the notice itself
    assert _counts(db, number) == before and _files(settings) == files_before
    # the move itself afterwards is unaffected (the version the form holds is still the case's)
    assert client.get(f"/desk/cases/{number}").status_code == 200
    assert before[0] is CaseState.pending_acceptance


def test_a_preview_of_a_form_with_errors_says_them_and_keeps_the_text(client, db, file_case, make_staff):
    number = file_case().case_number
    login_as(client, db, make_staff("miit", Role.handler))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    before = _counts(db, number)
    resp = client.post(f"/desk/cases/{number}/moves/transfer/preview", data={
        "csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1), "unit_id": "",
        "reason": "other_unit_competent", "public_text": "已转送相关部门办理。"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "已转送相关部门办理。" in html.split('id="move-transfer"')[1] and 'aria-invalid="true"' in html
    assert _counts(db, number) == before


def test_a_move_without_a_notice_has_no_preview(client, db, file_case, make_staff):
    number = file_case().case_number
    login_as(client, db, make_staff("miit", Role.handler))
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    resp = client.post(f"/desk/cases/{number}/moves/note/preview", data={
        "csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1), "internal_text": "x"})
    assert resp.status_code == 404
    # another unit's handler cannot preview on a case they cannot see
    other = client.application.test_client()
    login_as(other, db, make_staff("samr", Role.handler))
    assert other.post(f"/desk/cases/{number}/moves/accept/preview",
                      data={"csrf_token": CSRF.search(other.get("/desk/search").get_data(as_text=True)).group(1)}
                      ).status_code == 404
