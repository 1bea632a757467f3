"""The filing form says what it wants before it is sent, and names each field an error is about."""
import html as htmllib
import re

from casework.intake.validation import (CLAIM_MAX, CLAIM_MIN, DESCRIPTION_MAX, DESCRIPTION_MIN, HINT_MAX,
                                        NAME_MAX, PARTY_MAX, PARTY_MIN, TITLE_MAX, TITLE_MIN)
from tests.web.test_public_pages import form_data, open_form


def summary_links(html):
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    return [(href, htmllib.unescape(text)) for href, text in re.findall(r'<a href="([^"]+)">([^<]*)</a>', box)]


def test_error_summary_names_each_field_in_chinese(client):
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(
        csrf, token, title="", description="", **{"complainant.name": "", "complainant.phone": ""}))
    assert resp.status_code == 422
    links = summary_links(resp.get_data(as_text=True))
    assert ("#title", "标题：此项为必填项。") in links
    assert ("#description", "具体情况：此项为必填项。") in links
    assert ("#complainant-name", "姓名：此项为必填项。") in links
    assert ("#complainant-phone", "手机号码：此项为必填项。") in links
    assert all("：" in text for _, text in links)


def test_error_summary_names_each_field_in_english(client):
    client.get("/lang/en?next=/")
    csrf, token, _ = open_form(client, "mediation")
    resp = client.post("/file/mediation", data=form_data(csrf, token, title="", category="", privacy_consent=None))
    assert resp.status_code == 422
    links = summary_links(resp.get_data(as_text=True))
    assert ("#title", "Title: This field is required.") in links
    assert ("#category", "Category: Choose a category.") in links
    # a radio group's link goes to its first radio button: a fieldset takes no focus
    assert ("#respondent-kind-member_company", "Who is the other party? Say who the other party is.") in links
    assert ("#privacy_consent", "Privacy notice: Please read and accept the privacy notice.") in links


def test_error_summary_lists_the_fields_in_the_forms_order(client):
    """As the page shows them (the claim above the phone number), not as they were checked."""
    client.get("/lang/en?next=/")
    csrf, token, _ = open_form(client, "mediation")
    resp = client.post("/file/mediation", data=form_data(
        csrf, token, title="", claim="", **{"complainant.phone": "1380013800"}))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    hrefs = [href for href, _ in summary_links(html)]
    assert set(hrefs) >= {"#title", "#claim", "#complainant-phone"}
    form = html[html.index('<form id="intake"'):]
    page_order = [m.group(1) for m in re.finditer(r'\bid="([^"]+)"', form)]
    assert all(h[1:] in page_order for h in hrefs)
    assert hrefs == sorted(hrefs, key=lambda h: page_order.index(h[1:]))


def hint(html, fid):
    return htmllib.unescape(re.search(rf'<p class="hint" id="{fid}-hint">([^<]*)</p>', html).group(1))


def maxlength(html, fid):
    return int(re.search(rf'id="{fid}"[^>]*?maxlength="(\d+)"', html, re.S).group(1))


def test_length_limits_are_stated_before_sending_in_chinese(client):
    html = client.get("/file/mediation").get_data(as_text=True)
    for fid, lo, hi in (("title", TITLE_MIN, TITLE_MAX), ("description", DESCRIPTION_MIN, DESCRIPTION_MAX),
                        ("respondent-name", PARTY_MIN, PARTY_MAX), ("claim", CLAIM_MIN, CLAIM_MAX)):
        assert f"{lo} 至 {hi} 个字" in hint(html, fid), fid
        assert maxlength(html, fid) == hi
    for fid, hi in (("association_hint", HINT_MAX), ("complainant-name", NAME_MAX)):
        assert f"最多 {hi} 个字" in hint(html, fid), fid
        assert maxlength(html, fid) == hi


def test_length_limits_are_stated_before_sending_in_english(client):
    client.get("/lang/en?next=/")
    html = client.get("/file/complaint").get_data(as_text=True)
    assert f"{TITLE_MIN} to {TITLE_MAX} characters." in hint(html, "title")
    assert f"{DESCRIPTION_MIN} to {DESCRIPTION_MAX} characters." in hint(html, "description")
    assert f"At most {NAME_MAX} characters." in hint(html, "complainant-name")


def test_the_mediation_form_says_what_the_other_party_will_read(client):
    """The respondent reads the dispute before consenting (issue 16): the applicant is told so
    while filing, and that the phone number and e-mail stay hidden."""
    zh = client.get("/file/mediation", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    hint = zh[zh.index('id="respondent-sees"'):]
    assert "对方在同意调解前会看到您填写的标题" in hint[:300] and "不会看到您的手机号码" in hint[:300]
    client.get("/lang/en?next=/")
    en = client.get("/file/mediation").get_data(as_text=True)
    assert "the other party reads your title, description, claim and amount" in en
    assert 'id="respondent-sees"' not in client.get("/file/complaint").get_data(as_text=True)
