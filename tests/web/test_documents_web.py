"""The written notices on the web: made by the desk's moves, downloaded by the complainant
from the status page (case opened with number and query code) and by staff of the case from
the desk; edited by an administrator, who cannot drop a part the law requires."""
import io
import re

import pytest
from pypdf import PdfReader

from casework.accounts.models import Role
from tests.web.test_admin_routing import login_as
from tests.web.test_mediation_web import desk_move, open_as_applicant
from tests.conftest import BASIS

pytestmark = pytest.mark.usefixtures("cjk_pdf")

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r'href="(/track/[^"]+/documents/\d+\.pdf)"')
DESK_LINK = re.compile(r'href="(/desk/cases/[^"]+/documents/\d+\.pdf)"')
REPLY = "经核查，协会已退还会费两万元，并停止强制入会的做法。"


def text_of(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def test_the_complainant_downloads_the_notices_from_the_status_page(app, client, db, file_case, make_staff):
    """信访工作条例 第二十三条 (受理告知书) and 第三十二、三十五条 (信访处理意见书), downloaded."""
    receipt = file_case()
    number = receipt.case_number
    login_as(client, db, make_staff("miit", Role.handler))
    assert desk_move(client, number, "accept").status_code == 303
    assert desk_move(client, number, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY, finding="substantiated").status_code == 303
    desk_page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    desk_links = DESK_LINK.findall(desk_page)
    assert len(desk_links) == 2 and 'id="documents"' in desk_page

    applicant = app.test_client()
    assert applicant.get(f"/track/{number}/documents/1.pdf").status_code == 302  # not opened: to the form
    open_as_applicant(applicant, receipt)
    status = applicant.get(f"/track/{number}").get_data(as_text=True)
    links = LINK.findall(status)
    assert len(links) == 2, status
    texts = []
    for url in links:
        resp = applicant.get(url)
        assert resp.status_code == 200 and resp.mimetype == "application/pdf"
        assert resp.headers["Content-Disposition"].startswith("attachment")
        assert "no-store" in resp.headers["Cache-Control"]
        texts.append(text_of(resp.data))
    assert "受理告知书" in texts[0] and number in texts[0]
    assert "信访处理意见书" in texts[1] and REPLY in texts[1] and "请求复查" in texts[1] and "30日内" in texts[1]
    # staff of the case get the same file; another unit's handler, nothing
    assert text_of(client.get(desk_links[1]).data) == texts[1]
    outsider = app.test_client()
    login_as(outsider, db, make_staff("mca", Role.handler))
    assert outsider.get(desk_links[1]).status_code == 404
    # a document of another case is not served under this case's number
    other = file_case()
    open_as_applicant(applicant, other)
    doc_id = links[0].rsplit("/", 1)[1]
    assert applicant.get(f"/track/{other.case_number}/documents/{doc_id}").status_code == 404


def test_an_administrator_cannot_drop_the_review_body_from_the_handling_opinion(client, db, make_staff):
    """信访工作条例 第三十五条: the 处理意见书 says from whom and by when to ask for 复查."""
    login_as(client, db, make_staff("mca", Role.administrator))
    path = "/admin/document-templates/handling_opinion/zh_CN"
    page = client.get(path).get_data(as_text=True)
    assert "$review_body" in page
    assert re.search(r"正文必须保留：(<code>\$\w+</code>、)*<code>\$\w+</code>。", page)  # the page's punctuation
    resp = client.post(path, data={"csrf_token": CSRF.search(page).group(1), "title": "信访处理意见书",
                                   "body": "$complainant：处理意见：$opinion $case_number $request $finding $legal_basis"})
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "$review_body" in body and "$review_deadline" in body
    ok = client.post(path, data={"csrf_token": CSRF.search(page).group(1), "title": "信访事项处理意见书",
                                 "body": "$complainant：\n$case_number $request $finding $opinion $legal_basis\n"
                                         "可以$review_deadline，向$review_body请求复查。"})
    assert ok.status_code == 303
    listing = client.get("/admin/document-templates").get_data(as_text=True)
    assert "信访事项处理意见书" in listing
    assert client.post(path + "/reset", data={"csrf_token": CSRF.search(page).group(1)}).status_code == 303
    assert client.get("/admin/document-templates/nothing/zh_CN").status_code == 404
