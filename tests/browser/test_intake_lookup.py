"""The association type-ahead on a phone, JavaScript on (issue 16, 9): a term that finds
nothing says so where the results appear (aria-live), words separated by a space must all
match, and the only association found is chosen instead of 不确定."""
import pytest

pytestmark = [pytest.mark.browser]

CODE = "51100000500009247D"  # 中国复合材料工业协会 in the test registry
SEARCH = "按名称、简称或拼音首字母查找"


def test_typeahead_says_no_match_and_chooses_a_single_result(phone, live_server):
    page = phone
    page.goto(live_server + "/file/complaint")
    box = page.locator("#association-results")
    assert box.get_attribute("aria-live") == "polite"
    page.get_by_label(SEARCH).fill("完全不存在的商会")
    page.wait_for_selector("#association-results .no-match")
    assert "没有找到匹配的协会/商会，可以检查名称，或选择“不确定”。" in box.inner_text()
    assert page.locator('input[name="association"][value="unknown"]').is_checked()

    page.get_by_label(SEARCH).fill("中国 复合")
    page.wait_for_selector(f'#association-results input[value="{CODE}"]')
    assert page.locator(f'input[name="association"][value="{CODE}"]').is_checked()
    assert not page.locator('input[name="association"][value="unknown"]').is_checked()
    assert box.locator(".no-match").count() == 0

    page.get_by_label(SEARCH).fill("物流")  # several: the user chooses
    page.wait_for_selector("#association-results label.option:nth-of-type(2)")
    assert page.locator("#association-results input:checked").count() == 0


@pytest.mark.parametrize("phone", [False], indirect=True)
def test_search_button_without_javascript_chooses_a_single_result_once(phone, live_server):
    page = phone
    page.goto(live_server + "/file/complaint")
    page.get_by_label(SEARCH).fill("中国 复合")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    choices = page.locator(f'input[name="association"][value="{CODE}"]')
    assert choices.count() == 1 and choices.first.is_checked()
    assert not page.locator('input[name="association"][value="unknown"]').is_checked()
    page.get_by_label(SEARCH).fill("复材")  # the choice found again: still listed once
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert page.locator(f'input[name="association"][value="{CODE}"]').count() == 1
    page.get_by_label(SEARCH).fill("没有这个协会")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert "没有找到匹配的协会/商会" in page.locator("#association-results").inner_text()


@pytest.mark.parametrize("lang, first, second", [
    ("zh", "中国复合材料工业协会", "51100000500009247D"),
    ("en", "China Composites Industry Association", "中国复合材料工业协会 · 51100000500009247D"),
])
def test_typeahead_speaks_the_pages_language_not_the_browsers(browser, live_server, lang, first, second):
    """A phone set to English reading the Chinese site (the default, no language cookie) is
    offered the associations' Chinese names, as the page around them is; and a phone set to
    Chinese that chose English gets the English names with the Chinese one beneath."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                              locale="en-US" if lang == "zh" else "zh-CN")
    page = ctx.new_page()
    try:
        if lang == "en":
            page.goto(live_server + "/lang/en?next=/file/complaint")
        else:
            page.goto(live_server + "/file/complaint")
        page.locator("#association_q").fill("中国 复合")
        option = page.locator(f'#association-results label.option:has(input[value="{CODE}"])')
        option.wait_for()
        assert option.locator(":scope > span").inner_text().startswith(first)
        assert option.locator("small").inner_text() == second
    finally:
        ctx.close()
