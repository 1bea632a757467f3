"""The public site through the Flask test client: filing, errors, receipts, tracking."""
import io
import re

from PIL import Image
from sqlalchemy import func, select

from casework.cases.models import Case

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def open_form(client, slug="complaint"):
    page = client.get(f"/file/{slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return CSRF.search(html).group(1), TOKEN.search(html).group(1), html


def form_data(csrf, token, **changes):
    data = {
        "csrf_token": csrf, "form_token": token,
        "association": "51100000500009247D", "category": "forced_membership",
        "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元。",
        "complainant.name": "张三", "complainant.phone": "13800138000", "privacy_consent": "1",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def png_bytes():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 128, 0)).save(out, format="PNG")
    return out.getvalue()


def case_count(db):
    with db.session_scope(write=False) as s:
        return s.scalar(select(func.count()).select_from(Case))


def test_start_page_is_chinese_with_a_visible_english_switch(client):
    html = client.get("/").get_data(as_text=True)
    assert "我要投诉" in html and 'lang="zh-CN"' in html
    switch = client.get("/lang/en?next=/")
    assert switch.status_code == 302 and switch.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "File a complaint" in html and 'lang="en"' in html


def test_language_switch_is_not_an_open_redirect(client):
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/lang/en?next=//evil.example/").headers["Location"] == "/"


def test_filing_a_complaint_shows_number_and_code_once(client, db, post_filing):
    csrf, token, _ = open_form(client)
    resp = post_filing(client, "/file/complaint", form_data(csrf, token))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    number = re.search(r'id="case-number"[^>]*>([A-Z0-9]+)<', html).group(1)
    code = re.search(r'id="query-code"[^>]*>([0-9A-Z-]+)<', html).group(1)
    assert number.startswith("TS") and len(code) == 19
    assert "仅在本浏览器中显示" in html
    assert resp.headers["Cache-Control"] == "no-store"
    # a double click sends the same form again: same receipt, one case
    again = client.post("/file/complaint", data=form_data(csrf, token), follow_redirects=True).get_data(as_text=True)
    assert number in again and code in again
    assert case_count(db) == 1


def test_errors_come_back_beside_their_fields_with_everything_kept(client, db, post_filing):
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(
        csrf, token, title="短", **{"complainant.phone": "010-12345678"},
        description="<script>alert('x')</script>协会强制收费两万元，要求退还。",
        attachments=(io.BytesIO(png_bytes()), "凭证.png")), content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'id="title-error"' in html and 'id="complainant-phone-error"' in html
    assert "请填写中国大陆手机号码" in html
    assert 'value="短"' in html and 'value="张三"' in html and 'value="010-12345678"' in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "凭证.png" in html  # the file is kept for the next try
    assert case_count(db) == 0
    ok = post_filing(client, "/file/complaint", form_data(csrf, token))
    assert ok.status_code == 200 and 'id="case-number"' in ok.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case))
        assert [a.filename for a in case.attachments] == ["凭证.png"]


def test_disguised_and_oversized_files_get_a_clear_message(client, db, app):
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(
        csrf, token, attachments=[(io.BytesIO(b"<?php system($_GET['c']); ?>"), "photo.jpg"),
                                  (io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * (11 * 1024 * 1024)), "huge.jpg")]),
        content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "photo.jpg" in html and "不是 JPEG" in html
    # an 11 MB file is read only to one byte past the limit: not "10.0 MB, at most 10 MB"
    assert "文件“huge.jpg”超过了每个文件 10 MB 的上限。" in html and "10.0 MB" not in html
    assert 'value="强制入会并收取会费"' in html
    assert case_count(db) == 0


def test_sixty_megabyte_upload_is_refused_with_the_form_kept(client, db):
    csrf, token, _ = open_form(client)
    big = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * (60 * 1024 * 1024))
    resp = client.post("/file/complaint", data=form_data(csrf, token, attachments=(big, "scan.png")),
                       content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "scan.png" in html and 'value="张三"' in html
    assert case_count(db) == 0


def test_a_form_without_csrf_token_is_refused_but_keeps_what_was_typed(client, db):
    _, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data("", token, title="我的标题很重要"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'value="我的标题很重要"' in html and "已过期" in html
    assert case_count(db) == 0


def test_association_search_without_javascript(client):
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(csrf, token, action="find", association="", association_q="zggt"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "中国钢铁工业协会" in html
    assert 'value="强制入会并收取会费"' in html


def test_association_search_without_javascript_names_them_in_english_on_the_english_form(client):
    """Issue 16, defect 6: the no-JS results use the English names, as the JavaScript lookup does."""
    client.set_cookie("lang", "en")
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(csrf, token, action="find", association="", association_q="zggt"))
    html = resp.get_data(as_text=True)
    results = html[html.index('id="association-results"'):]
    results = results[:results.index("</div>")]
    assert resp.status_code == 200 and "China Iron and Steel Association" in results
    assert "中国钢铁工业协会" not in results


def test_anonymous_report_form_files_without_identity(client, db):
    csrf, token, html = open_form(client, "report")
    assert "匿名" in html
    resp = client.post("/file/report", data=form_data(csrf, token, anonymous="1", category="illegal_fees",
                                                      **{"complainant.name": "", "complainant.phone": ""}))
    assert resp.status_code == 303 and "/file/report/receipt/JB" in resp.headers["Location"]
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case))
        assert case.anonymous and case.complainant_phone_enc is None


def test_only_the_suggestion_form_leaves_out_the_resident_id_number(client):
    """个人信息保护法 第六条: a suggestion has no use for a resident ID number, so its form does not
    ask for one; the other forms still offer it (optional)."""
    for case_type in ("complaint", "report", "mediation"):
        assert 'name="complainant.id_number"' in open_form(client, case_type)[2], case_type
    html = open_form(client, "suggestion")[2]
    assert 'name="complainant.id_number"' not in html and "身份证" not in html


def file_one(client, post_filing):
    csrf, token, _ = open_form(client)
    html = post_filing(client, "/file/complaint", form_data(csrf, token)).get_data(as_text=True)
    return (re.search(r'id="case-number"[^>]*>([A-Z0-9]+)<', html).group(1),
            re.search(r'id="query-code"[^>]*>([0-9A-Z-]+)<', html).group(1), csrf)


def test_status_page_with_number_and_code(client, post_filing):
    number, code, csrf = file_one(client, post_filing)
    resp = client.post("/track", data={"csrf_token": csrf, "number": number, "code": code.lower().replace("-", " ")})
    assert resp.status_code == 303
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert number in html and "待受理" in html and "强制入会并收取会费" in html and "已提交" in html
    assert "13800138000" not in html


def test_wrong_code_and_unknown_number_look_the_same(client, post_filing):
    number, code, csrf = file_one(client, post_filing)
    wrong = client.post("/track", data={"csrf_token": csrf, "number": number, "code": "AAAA-BBBB-CCCC-DDDD"})
    unknown = client.post("/track", data={"csrf_token": csrf, "number": "TS2026010100000", "code": code})
    assert wrong.status_code == unknown.status_code == 404
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))
    assert strip(wrong) == strip(unknown)
    # the status page itself needs a successful lookup first
    assert client.get(f"/track/{number}").status_code == 302


def test_lookups_are_throttled_per_case_number_only(client, app, post_filing):
    number, code, csrf = file_one(client, post_filing)
    for _ in range(10):
        assert client.post("/track", data={"csrf_token": csrf, "number": number, "code": "AAAA"}).status_code == 404
    limited = client.post("/track", data={"csrf_token": csrf, "number": number, "code": "AAAA"})
    assert limited.status_code == 429 and "尝试次数过多" in limited.get_data(as_text=True)
    # only failures are refused: the complainant's right code still opens the case
    assert client.post("/track", data={"csrf_token": csrf, "number": number, "code": code}).status_code == 303
    other, other_code, _ = file_one(client, post_filing)
    assert client.post("/track", data={"csrf_token": csrf, "number": other, "code": other_code}).status_code == 303


def test_every_page_carries_security_headers_and_loads_nothing_from_elsewhere(client):
    for path in ("/", "/file/complaint", "/file/mediation", "/track", "/privacy"):
        resp = client.get(path)
        assert resp.status_code == 200
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        html = resp.get_data(as_text=True)
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert "<script>" not in html  # no inline script


def test_unknown_case_type_and_pages_are_friendly_404s(client):
    resp = client.get("/file/petition")
    assert resp.status_code == 404 and "页面不存在" in resp.get_data(as_text=True)


def test_the_privacy_notice_says_what_the_law_asks_and_names_the_operator(app, settings, services, db, make_staff):
    """个人信息保护法 第十七条: before processing, tell (一) the processor's name and contact details,
    (二) the purpose, the way, the kinds of data and how long they are kept, (三) how to use one's
    rights. The page named no processor and no period ("after the retention period"). It names the
    operator from CHANGTONG_OPERATOR_NAME / _CONTACT, the days from CHANGTONG_RETENTION_DAYS, and
    /admin warns while the operator is unnamed."""
    from dataclasses import replace

    from casework.accounts.models import Role
    from casework.context import Services
    from tests.web.test_admin_routing import login_as
    from web.app import create_app

    unnamed = app.test_client().get("/privacy").get_data(as_text=True)
    assert "本平台的运营单位尚未填写其名称和联系方式。" in unnamed
    assert f"案件办结 {settings.retention_days} 日后，您的个人信息和文件即被删除" in unnamed
    assert "谁处理您的个人信息" in unnamed and "您的权利" in unnamed and "我的诉求" in unnamed
    admin = app.test_client()
    login_as(admin, db, make_staff("mca", Role.administrator))
    assert 'id="operator-unnamed"' in admin.get("/admin").get_data(as_text=True)

    named = replace(settings, operator_name="某省民政厅社会组织管理局", operator_contact="privacy@mz.example.gov.cn，010-12345678",
                    retention_days=730)
    other = create_app(named, services=Services.from_settings(named), database=db)
    page = other.test_client().get("/privacy").get_data(as_text=True)
    assert ('<p id="operator"><span id="operator-name">某省民政厅社会组织管理局</span><br>联系方式： '
            '<span id="operator-contact">privacy@mz.example.gov.cn，010-12345678</span></p>') in page
    client = other.test_client()
    client.set_cookie("lang", "en")  # an English page marks the Chinese name as Chinese
    assert '<span id="operator-name" lang="zh-CN">某省民政厅社会组织管理局</span>' in client.get("/privacy").get_data(as_text=True)
    assert "案件办结 730 日后" in page
    admin = other.test_client()
    login_as(admin, db, make_staff("mca", Role.administrator))
    assert 'id="operator-unnamed"' not in admin.get("/admin").get_data(as_text=True)
