"""A form sent back with errors on a phone, JavaScript on: the choice made is shown once."""

import pytest

# the live server answers from threads of its own: the test commits its rows
pytestmark = [pytest.mark.browser, pytest.mark.commits]

CODE = "51100000500009247D"  # 中国复合材料工业协会 in the test registry


def test_chosen_association_is_shown_once_after_a_form_error(phone, live_server):
    page = phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/file/complaint")
    page.get_by_label("按名称、简称或拼音首字母查找").fill("zgfh")
    page.get_by_text("中国复合材料工业协会").first.click()  # type-ahead result
    page.get_by_label("事项分类").select_option(label="强制入会/强制摊派")
    page.get_by_role("button", name="提交").click()  # no title, description, name or phone
    page.wait_for_selector(".error-summary")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # time for a type-ahead search the script might start by itself
    choices = page.locator(f'input[name="association"][value="{CODE}"]')
    assert choices.count() == 1
    assert choices.first.is_checked()
    # a new search still offers it once
    page.get_by_label("按名称、简称或拼音首字母查找").fill("中国复合")
    page.wait_for_timeout(800)
    assert page.locator(f'input[name="association"][value="{CODE}"]').count() == 1


def test_a_file_over_the_limit_is_not_uploaded_and_is_named_in_the_pages_language(phone, live_server, tmp_path):
    """With JavaScript, an 11 MB photo stops the sending before its upload (on a phone network,
    minutes) with the server's own message; without the file the form goes on."""
    page = phone
    big = tmp_path / "现场照片.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * (11 * 1024 * 1024))
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.goto(live_server + "/file/suggestion")
    page.get_by_label("标题").fill("建议公开收费标准")
    page.locator("#attachments").set_input_files(str(big))
    page.get_by_role("button", name="提交").click()
    page.wait_for_timeout(500)
    assert posts == [] and page.url.endswith("/file/suggestion")
    message = page.locator("#attachments").evaluate("e => e.validationMessage")
    assert message == "文件“现场照片.jpg”超过了每个文件 10 MB 的上限。"
    page.locator("#attachments").set_input_files([])
    page.get_by_role("button", name="提交").click()  # the server's own errors now (no description)
    page.wait_for_selector(".error-summary")
    assert len(posts) == 1 and page.locator("#title").input_value() == "建议公开收费标准"


def test_a_paste_past_the_limit_says_the_rest_was_not_taken(phone, live_server):
    """maxlength cut a pasted 5,100 characters to 5,000 without a word; the field says so now."""
    page = phone
    page.goto(live_server + "/file/complaint")
    title = page.locator("#title")
    limit = int(title.get_attribute("maxlength"))
    title.focus()
    page.keyboard.insert_text("协" * (limit + 20))  # as a paste: the browser keeps the first `limit`
    assert len(title.input_value()) == limit
    note = page.locator("#title ~ .limit-note")
    assert note.inner_text() == f"此项最多 {limit} 个字符，超出的部分未能填入。"
    title.fill("协会收费问题")
    assert page.locator("#title ~ .limit-note").count() == 0
