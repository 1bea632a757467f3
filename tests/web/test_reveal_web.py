"""The reveal of a report's identity and the originals of uploads, through the desk; and no
plaintext of an uploaded file anywhere on disk."""
import io
import os
import re
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import func, select

from casework.accounts.models import Role
from tests.phone_codes import post_filing
from casework.audit.models import AuditEntry
from casework.cases.models import Attachment, Case, Event, EventKind
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
PHONE = "13900139000"


def marked_png(marker: str, pad: int = 0) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", marker + "." * pad)
    info.add_text("GPS", marker)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def file_report(client, *, files=None, slug="report", category="illegal_fees") -> str:
    page = client.get(f"/file/{slug}").get_data(as_text=True)
    data = {"csrf_token": CSRF.search(page).group(1), "form_token": TOKEN.search(page).group(1),
            "association": "51100000500009247D", "category": category,
            "title": "协会违规收费举报", "description": "协会以评比为名向会员企业收取费用两万元。",
            "complainant.name": "李四", "complainant.phone": PHONE, "privacy_consent": "1"}
    if files:
        data["attachments"] = files
    resp = post_filing(client, f"/file/{slug}", data, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return re.search(r'id="case-number"[^>]*>([A-Z0-9]+)<', resp.get_data(as_text=True)).group(1)


def sign_in(app, db, actor):
    client = app.test_client()
    login_as(client, db, actor)
    return client


def token_of(client, path):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def scan(roots, marker: bytes, since: float) -> list[str]:
    found = []
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                    if st.st_mtime < since or st.st_size > 200 * 1024 * 1024 or not path.is_file():
                        continue
                    if marker in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    continue
    return found


def test_an_uploaded_marker_is_nowhere_in_plaintext_on_disk(client, db, settings):
    marker = f"MARKER-{uuid.uuid4().hex}"
    since = time.time() - 1
    # a large one too: a request body over 500 KB is where a parser would spill to a temporary file
    number = file_report(client, files=[(io.BytesIO(marked_png(marker)), "receipt.png"),
                                        (io.BytesIO(marked_png(marker, pad=700_000)), "scan.png")])
    with db.session_scope(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Attachment).join(Case).where(Case.number == number)) == 2
    found = scan([settings.data_dir, tempfile.gettempdir()], marker.encode(), since)
    assert not found, found


@pytest.fixture
def staff(make_staff):
    return {"handler": make_staff("miit", Role.handler), "other": make_staff("miit", Role.handler),
            "custodian": make_staff("miit", Role.custodian), "admin": make_staff("mca", Role.administrator),
            "lead": make_staff("miit", Role.unit_lead)}


def test_reveal_through_the_desk(app, client, db, staff):
    marker = f"MARKER-{uuid.uuid4().hex}"
    original = marked_png(marker)
    number = file_report(client, files=[(io.BytesIO(original), "receipt.png")])
    handler = sign_in(app, db, staff["handler"])
    page = handler.get(f"/desk/cases/{number}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and PHONE not in html and "139****9000" not in html
    assert 'id="move-request_reveal"' in html and 'id="show-identity"' not in html
    csrf = CSRF.search(html).group(1)
    with db.session_scope(write=False) as s:
        att_id = s.scalar(select(Attachment.id).join(Case).where(Case.number == number))
    # the staff copy, without the metadata; the original is refused before an approval
    copy = handler.get(f"/desk/cases/{number}/files/{att_id}")
    assert copy.status_code == 200 and marker.encode() not in copy.data and copy.data.startswith(b"\x89PNG")
    assert handler.post(f"/desk/cases/{number}/files/{att_id}/original", data={"csrf_token": csrf}).status_code == 403
    assert handler.post(f"/desk/cases/{number}/identity", data={"csrf_token": csrf}).status_code == 403
    # no reveal through the generic move route
    assert handler.post(f"/desk/cases/{number}/moves/request_reveal",
                        data={"csrf_token": csrf, "reason": "x" * 20}).status_code == 404
    short = handler.post(f"/desk/cases/{number}/reveal-request", data={"csrf_token": csrf, "reason": "too short"})
    assert short.status_code == 422 and 'id="m-request_reveal-reason-error"' in short.get_data(as_text=True)
    sent = handler.post(f"/desk/cases/{number}/reveal-request",
                        data={"csrf_token": csrf, "reason": "需要联系举报人核实收费凭证的来源"})
    assert sent.status_code == 303
    assert 'id="reveal-pending"' in handler.get(f"/desk/cases/{number}").get_data(as_text=True)

    custodian = sign_in(app, db, staff["custodian"])
    assert custodian.get("/desk").headers["Location"].endswith("/desk/reveals")  # a custodian starts there
    assert custodian.get(f"/desk/cases/{number}").status_code == 404  # no case content for the custodian
    listing = custodian.get("/desk/reveals")
    lhtml = listing.get_data(as_text=True)
    assert listing.status_code == 200 and number in lhtml and "需要联系举报人核实收费凭证的来源" in lhtml
    assert PHONE not in lhtml and "no-store" in listing.headers["Cache-Control"]
    # the bar offers no case search nor number box to a custodian: each answered "not allowed"
    assert "nav-search" not in lhtml and 'id="find-number"' not in lhtml and "nav-reveals" in lhtml
    assert custodian.get("/desk/search?q=x").status_code == 403
    req_id = re.search(r'id="request-(\d+)"', lhtml).group(1)
    ok = custodian.post(f"/desk/reveals/{req_id}", data={"csrf_token": CSRF.search(lhtml).group(1),
                                                          "decision": "approve", "note": "同意，仅限核实"})
    assert ok.status_code == 303
    assert 'id="no-pending"' in custodian.get("/desk/reveals").get_data(as_text=True)

    html = handler.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="show-identity"' in html and PHONE not in html
    # the timeline says which way the custodian decided ("身份查看申请已审批" alone did not)
    assert "决定：已批准" in html.split('id="timeline"')[1]
    assert 'id="move-request_reveal"' not in html  # nothing more to ask for while the approval runs
    shown = handler.post(f"/desk/cases/{number}/identity", data={"csrf_token": csrf})
    assert shown.status_code == 200 and PHONE in shown.get_data(as_text=True) and "李四" in shown.get_data(as_text=True)
    assert "no-store" in shown.headers["Cache-Control"]
    assert handler.get(f"/desk/cases/{number}/identity").status_code == 405  # a POST only, never a link
    got = handler.post(f"/desk/cases/{number}/files/{att_id}/original", data={"csrf_token": csrf})
    assert got.status_code == 200 and got.data == original and "no-store" in got.headers["Cache-Control"]

    other = sign_in(app, db, staff["other"])
    assert other.post(f"/desk/cases/{number}/identity", data={"csrf_token": csrf}).status_code in (400, 403)
    other_csrf = token_of(other, f"/desk/cases/{number}")
    assert other.post(f"/desk/cases/{number}/identity", data={"csrf_token": other_csrf}).status_code == 403
    admin = sign_in(app, db, staff["admin"])
    assert admin.get(f"/desk/cases/{number}").status_code == 404
    admin_csrf = token_of(admin, "/admin/")
    assert admin.post(f"/desk/cases/{number}/identity", data={"csrf_token": admin_csrf}).status_code == 404

    with db.session_scope(write=False) as s:
        case_id = s.scalar(select(Case.id).where(Case.number == number))
        kinds = list(s.scalars(select(Event.kind).where(Event.case_id == case_id)))
        assert kinds.count(EventKind.identity_revealed) == 1 and kinds.count(EventKind.original_opened) == 1
        actions = {(a.kind.value, a.action.value) for a in s.scalars(select(AuditEntry).where(
            AuditEntry.object_id == number))}
        assert {("identity_reveal", "requested"), ("identity_reveal", "approved"), ("identity_reveal", "viewed"),
                ("case_file", "downloaded")} <= actions
    # issue 17, item 5: the administrators' audit view shows why it was asked and what was decided
    audit = admin.get("/admin/audit", query_string={"kind": "identity_reveal"}).get_data(as_text=True)
    assert "需要联系举报人核实收费凭证的来源" in audit and "同意，仅限核实" in audit and number in audit
    assert PHONE not in audit and "李四" not in audit
    # each view is one row of the log (its audit entry beside the case event made it two), and a
    # decision reads as words: who asked, what was decided, until when (Beijing time), not ids and codes
    whole = admin.get("/admin/audit").get_data(as_text=True)
    assert whole.count(f"已查看身份: <code>{number}</code>") == 1
    assert "requested_by" not in audit and ">approved<" not in audit and "+00:00" not in audit
    assert "已批准" in audit and "申请人" in audit


def test_a_complaints_original_takes_the_unit_lead_and_a_reason(app, client, db, staff):
    original = marked_png(f"MARKER-{uuid.uuid4().hex}")
    number = file_report(client, files=[(io.BytesIO(original), "receipt.png")], slug="complaint",
                         category="forced_membership")
    with db.session_scope(write=False) as s:
        att_id = s.scalar(select(Attachment.id).join(Case).where(Case.number == number))
    handler = sign_in(app, db, staff["handler"])
    csrf = token_of(handler, f"/desk/cases/{number}")
    assert handler.post(f"/desk/cases/{number}/files/{att_id}/original",
                        data={"csrf_token": csrf, "reason": "核对原始凭证的拍摄信息"}).status_code == 403
    lead = sign_in(app, db, staff["lead"])
    html = lead.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert "orig-reason-" in html and 'id="reveal"' not in html  # a complaint has no reveal box
    csrf = CSRF.search(html).group(1)
    assert lead.post(f"/desk/cases/{number}/files/{att_id}/original",
                     data={"csrf_token": csrf, "reason": "short"}).status_code == 422
    got = lead.post(f"/desk/cases/{number}/files/{att_id}/original",
                    data={"csrf_token": csrf, "reason": "核对原始凭证的拍摄信息"})
    assert got.status_code == 200 and got.data == original
