"""Issue 16, defects 7, 9 and 10 on the filing form: the association lookup without JavaScript
(a term that finds nothing says so, words separated by spaces must all match, a single result
is chosen, the choice is listed once), each case type's own hints, and the site's icon."""
import html as htmllib
import re

import pytest

from casework.registry.lookup import search_associations
from tests.web.test_public_pages import form_data, open_form

COMPOSITES = "51100000500009247D"  # 中国复合材料工业协会 in the demo registry
NO_MATCH_ZH = "没有找到匹配的协会/商会，可以检查名称，或选择“不确定”。"
NO_MATCH_EN = "No matching association or chamber of commerce found. Check the name, or choose “Not sure”."


def find(client, q, slug="complaint", **changes):
    csrf, token, _ = open_form(client, slug)
    resp = client.post(f"/file/{slug}", data=form_data(csrf, token, action="find", association_q=q, **changes))
    assert resp.status_code == 200
    return htmllib.unescape(resp.get_data(as_text=True))


def results(page: str) -> str:
    box = page[page.index('id="association-results"'):]
    return box[:box.index("</div>")]


def radios(page: str) -> list[tuple[str, bool]]:
    """(value, checked) of every association radio on the page, in order."""
    return [(m.group(1), "checked" in m.group(2))
            for m in re.finditer(r'<input type="radio" name="association" value="([^"]*)"([^>]*)>', page)]


def test_words_separated_by_a_space_must_all_match(session):
    assert [a.name for a in search_associations(session, "中国 复合")] == ["中国复合材料工业协会"]
    assert [a.name for a in search_associations(session, "复合  中国")] == ["中国复合材料工业协会"]
    assert search_associations(session, "中国 家具") == []  # 广东省家具协会 is not 中国…
    assert [a.name for a in search_associations(session, "zg gt")] == ["中国钢铁工业协会"]
    assert [a.name for a in search_associations(session, "China Composites")] == ["中国复合材料工业协会"]


def test_a_term_that_finds_nothing_says_so_in_chinese_and_in_english(client):
    page = find(client, "不存在的协会名称", association="")
    assert NO_MATCH_ZH in results(page)
    assert ("unknown", True) in radios(page)  # 不确定 stays the choice
    client.set_cookie("lang", "en")
    assert NO_MATCH_EN in results(find(client, "xyzxyz", association=""))


def test_a_single_result_is_chosen_and_not_sure_is_not(client):
    page = find(client, "中国 复合", association="unknown")
    assert "中国复合材料工业协会" in results(page)
    assert radios(page) == [(COMPOSITES, True), ("unknown", False)]


def test_several_results_leave_the_choice_to_the_user(client):
    page = find(client, "物流", association="unknown")
    found = [v for v, _c in radios(page) if v != "unknown"]
    assert len(found) > 1 and ("unknown", True) in radios(page)
    assert not any(c for v, c in radios(page) if v != "unknown")


def test_the_chosen_association_is_listed_once_when_a_search_finds_it_again(client):
    page = find(client, "复材", association=COMPOSITES)
    assert [v for v, _c in radios(page)].count(COMPOSITES) == 1
    assert (COMPOSITES, True) in radios(page)
    # a search that finds others keeps the choice, once, above them
    page = find(client, "协会", association=COMPOSITES)
    assert [v for v, _c in radios(page)].count(COMPOSITES) == 1
    assert (COMPOSITES, True) in radios(page)


def test_the_javascript_lookup_finds_words_in_any_order(client):
    items = client.get("/api/v1/associations?q=" + "复合 中国").get_json()["items"]
    assert [a["credit_code"] for a in items] == [COMPOSITES]


def hint(page, fid):
    return re.search(rf'<p class="hint" id="{fid}-hint">([^<]*)</p>', page).group(1)


def legends(page):
    return re.findall(r"<legend>([^<]*)</legend>", page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_case_type_has_hints_of_its_own(client, lang):
    client.set_cookie("lang", lang)
    pages = {slug: htmllib.unescape(open_form(client, slug)[2]) for slug in ("complaint", "report", "mediation", "suggestion")}
    complaint_title = hint(pages["complaint"], "title")
    complaint_text = hint(pages["complaint"], "description")
    for slug in ("mediation", "suggestion"):
        assert hint(pages[slug], "title") != complaint_title, slug
    for slug in ("report", "mediation", "suggestion"):
        assert hint(pages[slug], "description") != complaint_text, slug
    suggestion = pages["suggestion"]
    if lang == "zh":
        assert "强制入会" not in hint(suggestion, "title") and "诉求" not in hint(suggestion, "description")
        assert "您有什么建议？" in legends(suggestion) and "证据材料" not in legends(suggestion)
        assert "纠纷涉及什么问题？" in legends(pages["mediation"])
        assert "反映什么问题？" in legends(pages["complaint"])
        assert "对方" not in suggestion
    else:
        assert "Forced to join" not in hint(suggestion, "title")
        assert "What do you suggest?" in legends(suggestion) and "Evidence" not in legends(suggestion)
        assert "other party" not in suggestion


def test_favicon_is_served_and_kept(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200
    assert resp.data[:4] == b"\x00\x00\x01\x00"  # an ICO file, not a redirect or an error page
    assert resp.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert "max-age=86400" in resp.headers["Cache-Control"] and "no-store" not in resp.headers["Cache-Control"]
    page = client.get("/").get_data(as_text=True)
    svg = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page).group(1)
    icon = client.get(svg)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data


def test_the_words_searched_for_stay_out_of_the_access_log(app):
    """What someone types into the lookup is not written to the server's access log (the path is)."""
    import logging
    import threading
    import urllib.parse
    import urllib.request

    from werkzeug.serving import make_server

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler, log = Capture(logging.INFO), logging.getLogger("werkzeug")
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        q = urllib.parse.quote("张三 13800138000")
        urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/api/v1/associations?q={q}").read()
    finally:
        srv.shutdown()
        log.removeHandler(handler)
        log.setLevel(old_level)
    logged = [line for line in lines if "/api/v1/associations" in line]
    assert logged, lines
    assert not [line for line in logged if "13800138000" in line or "q=" in line], logged


def test_the_chosen_association_is_named_in_english_on_the_english_form(client):
    client.set_cookie("lang", "en")
    csrf, token, _ = open_form(client)
    resp = client.post("/file/complaint", data=form_data(csrf, token, association=COMPOSITES, title=""))
    page = htmllib.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422
    chosen = page[page.index('class="option selected"'):]
    chosen = chosen[:chosen.index("</label>")]
    assert "China Composites Industry Association" in chosen and "中国复合材料工业协会" not in chosen


def test_a_short_name_is_in_the_pages_own_brackets(client):
    """The Chinese page wrote "中国汽车工业协会 (中汽协)" with ASCII brackets."""
    page = find(client, "中汽协")
    assert "中国汽车工业协会（中汽协）" in results(page) and "(中汽协)" not in results(page)
    client.set_cookie("lang", "en")
    # the Chinese short name on the English page is marked as Chinese (tests/web/test_public_a11y.py)
    assert '(<span lang="zh-CN">中汽协</span>)' in results(find(client, "中汽协"))
