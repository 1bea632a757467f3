"""A form sent back with errors on a phone, JavaScript on: the choice made is shown once."""
import re

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
