"""A complaint replied to by one unit, reviewed (复查) by the level above it and re-reviewed (复核)
by the level above that, in a real browser (信访工作条例 第三十二、三十五、三十六条).

The complainant files about 四川省食品工业协会 on a phone; 四川省经济和信息化厅 accepts and replies
at its desk. The status page names 工业和信息化部 as the body deciding a review and the date to ask
by (also in English); 工业和信息化部 decides the review, 中央社会工作部 the re-review, and the page
then offers no further review. The complainant downloads the 信访处理意见书, the 复查意见书 and the
复核意见书, whose text is read back from the PDFs.
"""
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.accounts.models import Role, User
from tests.browser.conftest import shot, sign_in
from tests.conftest import BASIS

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits, pytest.mark.usefixtures("cjk_pdf")]

DESCRIPTION = "协会要求我公司必须入会，并收取会费两万元，否则不予出具行业证明。"
REPLY = "经核查，该协会要求会员企业入会的做法缺乏依据，已责令其停止并退还会费。"
REVIEW_ASK = "协会至今未退还会费，答复没有落实，请求复查。"
REVIEW_DECISION = "经复查，原处理意见认定事实清楚，已督促协会在十五日内退还会费，维持原处理意见。"
RE_REVIEW_ASK = "复查后协会仍未退费，请求复核。"
RE_REVIEW_DECISION = "经复核，协会已于近日退还全部会费，维持复查意见。"

REPLIER, REVIEWER, RE_REVIEWER = "四川省经济和信息化厅", "工业和信息化部", "中央社会工作部"


def username(db, make_staff, unit_code):
    actor = make_staff(unit_code, Role.handler)
    with db.session_scope(write=False) as s:
        return s.scalar(select(User.username).where(User.id == actor.user_id))


def no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")


def do_move(desk, number, move, **fields):
    """Open the move's form on the desk's case page, fill it and send it."""
    form = desk.locator(f"#move-{move}")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    for name, value in fields.items():
        field = desk.locator(f"#m-{move}-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value=value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    desk.wait_for_url(re.compile(rf".*/desk/cases/{number}$"))
    assert desk.locator("#move-error").count() == 0, desk.locator("#move-error").inner_text()


def ask(phone, text):
    phone.locator("#review-form textarea[name=public_text]").fill(text)
    phone.locator("#review-form button[type=submit]").click()
    phone.wait_for_selector("[role=status]")


def pdf_text(phone, title):
    with phone.expect_download() as info:
        phone.locator("#documents a.document-pdf", has_text=title).click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF-")
    # pypdf breaks lines where the PDF does: compare without them
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def test_reply_review_and_re_review_up_the_chain(pages, live_server, db, make_staff, request, sms_step):
    base = live_server

    # the complainant files on a phone
    phone = pages("complainant", phone=True)
    phone.goto(base + "/")
    phone.get_by_role("link", name=re.compile("我要投诉")).click()
    phone.get_by_label("按名称、简称或拼音首字母查找").fill("四川省食品")
    phone.get_by_text("四川省食品工业协会").first.click()  # type-ahead result
    phone.get_by_label("事项分类").select_option(label="强制入会/强制摊派")
    phone.get_by_label("标题").fill("强制入会并收取会费")
    phone.get_by_label("具体情况").fill(DESCRIPTION)
    phone.locator("#complainant-name").fill("王五")
    phone.locator("#complainant-phone").fill("13800138000")
    phone.get_by_label(re.compile("我已阅读隐私说明")).check()
    phone.get_by_role("button", name="提交").click()
    sms_step(phone)  # the code sent to the phone (issue 19)
    number = phone.locator("#case-number").inner_text().strip()
    code = phone.locator("#query-code").inner_text().strip()
    assert re.fullmatch(r"TS\d{14}", number)
    phone.goto(base + "/track")
    phone.locator("#number").fill(number)
    phone.locator("#code").fill(code)
    phone.locator("form.card button[type=submit]").click()
    phone.wait_for_url(re.compile(rf".*/track/{number}$"))
    assert phone.locator("#case-state").inner_text() == "待受理"

    # 四川省经济和信息化厅 accepts and replies at its desk
    desk = pages("sc_economy_it")
    sign_in(desk, base, username(db, make_staff, "sc-economy-it"), f"/desk/cases/{number}")
    do_move(desk, number, "accept", public_text="您的投诉已受理，我们将尽快核查。")
    do_move(desk, number, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY, finding="substantiated")
    assert desk.locator("#case-state").inner_text() == "已答复"

    # the complainant is told who decides a review and by when, and asks for one (复查)
    phone.reload()
    assert phone.locator("#case-state").inner_text() == "已答复"
    assert "申请复查期限" in phone.locator("#deadline").inner_text()
    assert phone.locator("#review-form h2").inner_text() == "不满意？申请复查"
    where = phone.locator("#review-where").inner_text()
    assert f"上一级机关「{REVIEWER}」在30日内办理" in where and re.search(r"请于\d{4}-\d{2}-\d{2}前（含当日）提出", where)
    assert REPLIER not in where and "可以再申请一次复核" in phone.locator("#review-next").inner_text()
    assert REPLIER in phone.locator("#review-from").inner_text()  # who decided, on a line of its own
    assert phone.locator("#review-form button[type=submit]").inner_text() == "申请复查"
    no_sideways_scroll(phone)
    shot(phone, request, "review_step")

    # the same, in English
    phone.get_by_role("link", name="English").click()
    phone.wait_for_url(re.compile(rf".*/track/{number}$"))
    where = phone.locator("#review-where").inner_text()
    assert "Ministry of Industry and Information Technology" in where and "within 30 days" in where
    assert "re-review, whose decision is final" in phone.locator("#review-next").inner_text()
    assert "Handling opinion (PDF)" in phone.locator("#documents a.document-pdf").all_inner_texts()
    no_sideways_scroll(phone)
    shot(phone, request, "review_step_en")
    phone.get_by_role("link", name="中文").click()
    phone.wait_for_url(re.compile(rf".*/track/{number}$"))

    ask(phone, REVIEW_ASK)
    assert "复查申请已收到" in phone.locator("[role=status]").inner_text()
    assert phone.locator("#case-state").inner_text() == "复查中"
    assert REVIEWER in phone.locator("#review-body").inner_text()
    assert phone.locator("#review-form").count() == 0

    # 工业和信息化部 decides the review
    desk = pages("miit")
    sign_in(desk, base, username(db, make_staff, "miit"), f"/desk/cases/{number}")
    assert desk.locator("#case-state").inner_text() == "复查中"
    do_move(desk, number, "decide_review", opinion="supported", legal_basis=BASIS, public_text=REVIEW_DECISION)
    assert desk.locator("#case-state").inner_text() == "已答复"

    # the complainant may ask once more: a re-review (复核) one level above 工业和信息化部
    phone.reload()
    assert REVIEW_DECISION in phone.content()
    assert "申请一次复核" in phone.locator("#next-step").inner_text()
    assert "申请复核期限" in phone.locator("#deadline").inner_text()
    assert phone.locator("#review-form h2").inner_text() == "不满意？申请复核"
    where = phone.locator("#review-where").inner_text()
    assert f"上一级机关「{RE_REVIEWER}」在30日内办理" in where
    assert phone.locator("#review-next").inner_text() == "复核意见为最终意见。"
    assert REVIEWER not in where and REPLIER not in where
    assert phone.locator("#review-form button[type=submit]").inner_text() == "申请复核"
    no_sideways_scroll(phone)
    shot(phone, request, "re_review_step")
    ask(phone, RE_REVIEW_ASK)
    assert "复核申请已收到" in phone.locator("[role=status]").inner_text()
    assert phone.locator("#case-state").inner_text() == "复核中"
    assert RE_REVIEWER in phone.locator("#review-body").inner_text()

    # 中央社会工作部 decides the re-review: final
    desk = pages("swd_central")
    sign_in(desk, base, username(db, make_staff, "swd-central"), f"/desk/cases/{number}")
    assert desk.locator("#case-state").inner_text() == "复核中"
    do_move(desk, number, "decide_review", opinion="supported", legal_basis=BASIS, public_text=RE_REVIEW_DECISION)
    assert desk.locator("#case-state").inner_text() == "已办结"

    # nothing more to ask; three written notices to download
    phone.reload()
    assert phone.locator("#case-state").inner_text() == "已办结"
    assert phone.locator("#review-form").count() == 0 and phone.locator("#review-where").count() == 0
    assert "复核意见为最终意见" in phone.locator("#next-step").inner_text()
    timeline = phone.locator(".timeline strong").all_inner_texts()
    assert timeline[-4:] == ["已申请复查", "已作出复查决定", "已申请复核", "已作出复核决定（最终意见）"]
    assert RE_REVIEW_DECISION in phone.content()
    titles = phone.locator("#documents a.document-pdf").all_inner_texts()
    assert [t for t in titles if "意见书" in t] == ["信访处理意见书 (PDF)", "复查意见书 (PDF)", "复核意见书 (PDF)"]
    no_sideways_scroll(phone)
    shot(phone, request, "closed")

    handling = pdf_text(phone, "信访处理意见书")
    for part in ("信访处理意见书", number, "王五", REPLIER, re.sub(r"\s", "", REPLY), "属实",
                 "自收到本意见书之日起30日内", f"向{REVIEWER}请求复查", "第三十二条", "第三十五条"):
        assert part in handling, part

    review = pdf_text(phone, "复查意见书")
    for part in ("复查意见书", number, REVIEWER, "请求复查", REVIEW_DECISION,
                 "自收到本意见书之日起30日内", f"向{RE_REVIEWER}请求复核", "第三十六条"):
        assert part in review, part
    assert REPLIER not in review

    final = pdf_text(phone, "复核意见书")
    for part in ("复核意见书", number, RE_REVIEWER, "请求复核", RE_REVIEW_DECISION, "本复核意见为最终意见",
                 "同一事实和理由", "不再受理", "第三十六条"):
        assert part in final, part
    assert "30日内" not in final  # no further remedy within the system
