"""A file over the limit on the status page and on the desk, JavaScript on: named in the page's
words as soon as it is chosen, and nothing is sent while it is chosen. Before, only the filing
form checked: the status page's evidence and the desk's reply uploaded up to 50 MB, then the
server refused it."""
import pytest

from casework.accounts.models import Role
from casework.cases.models import Case, Event, EventKind
from tests.browser.conftest import sign_in
from tests.browser.test_withdraw import open_status
from tests.web.test_public_moves import staff_move

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]


def big_photo(tmp_path, name="现场照片.jpg"):
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * (11 * 1024 * 1024))
    return str(path)


def posts_of(page):
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    return posts


def test_evidence_over_the_limit_is_not_sent_from_the_status_page(phone, live_server, db, file_case, tmp_path):
    receipt = file_case()
    open_status(phone, live_server, receipt)
    posts = posts_of(phone)
    form = phone.locator("#evidence-form")
    form.locator("#add_evidence-public_text").fill("补充：协会收费的银行回单。")
    form.locator("#add_evidence-files").set_input_files(big_photo(tmp_path))
    form.locator("button[type=submit]").click()
    phone.wait_for_timeout(500)
    assert posts == []
    message = form.locator("#add_evidence-files").evaluate("e => e.validationMessage")
    assert message == "文件“现场照片.jpg”超过了每个文件 10 MB 的上限。"
    form.locator("#add_evidence-files").set_input_files([])
    form.locator("button[type=submit]").click()  # the statement alone goes
    phone.wait_for_selector("[role=status]")
    assert len(posts) == 1 and "补充：协会收费的银行回单。" in phone.content()


def test_a_reply_document_over_the_limit_is_not_sent_from_the_desk(pages, live_server, db, file_case, make_staff,
                                                                   services, tmp_path):
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    staff_move(db, services, handler, receipt.case_id, "accept")
    with db.session_scope(write=False) as s:
        from casework.accounts.models import User

        username = s.get(User, handler.user_id).username
    page = pages("handler")
    sign_in(page, live_server, username, then=f"/desk/cases/{receipt.case_number}")
    page.evaluate("document.querySelector('#move-reply').open = true")
    form = page.locator("#move-reply form")
    form.locator("textarea[name=public_text]").fill("经核查，协会已停止强制入会做法并退还会费。")
    form.locator("select[name=opinion]").select_option(value="supported")
    form.locator("input[name=legal_basis]").fill("《国务院办公厅关于进一步规范行业协会商会收费的通知》")
    posts = posts_of(page)
    form.locator("input[name=files]").set_input_files(big_photo(tmp_path, "核查报告.pdf"))
    form.locator("button[type=submit]").click()
    page.wait_for_timeout(500)
    assert posts == []
    assert form.locator("input[name=files]").evaluate("e => e.validationMessage") == \
        "文件“核查报告.pdf”超过了每个文件 10 MB 的上限。"
    with db.session_scope(write=False) as s:
        assert s.get(Case, receipt.case_id).state.value == "accepted"
        assert not s.query(Event).filter_by(case_id=receipt.case_id, kind=EventKind.replied).count()
