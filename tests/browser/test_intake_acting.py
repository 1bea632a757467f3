"""以谁的名义 on a phone (issue 19): with JavaScript only the chosen part's fields show; without
it every part shows under its legend (the server reads only the chosen one)."""
import pytest

pytestmark = [pytest.mark.browser]


def test_with_javascript_only_the_chosen_parts_fields_show(phone, live_server):
    page = phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/file/complaint")
    organisation, agent = page.locator("#organisation-part"), page.locator("#agent-part")
    assert page.get_by_label("本人", exact=True).is_checked()
    assert organisation.is_hidden() and agent.is_hidden()
    page.get_by_label("本单位（公司、会员企业或其他组织）").check()
    assert organisation.is_visible() and agent.is_hidden()
    assert page.get_by_label("单位名称").is_visible() and page.get_by_label("统一社会信用代码").is_visible()
    page.get_by_label("代理他人").check()
    assert organisation.is_visible() and agent.is_visible()
    assert page.get_by_label("授权委托书").is_visible()
    page.get_by_label("本人", exact=True).check()
    assert organisation.is_hidden() and agent.is_hidden()


@pytest.mark.parametrize("phone", [False], indirect=True)
def test_without_javascript_every_part_shows_under_its_legend(phone, live_server):
    page = phone
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/file/mediation")
    assert page.locator("#organisation-part").is_visible() and page.locator("#agent-part").is_visible()
    assert page.get_by_text("单位信息：仅在为公司或其他组织提交时填写").is_visible()
    assert page.get_by_text("代理人信息：仅在代理他人提交时填写").is_visible()
