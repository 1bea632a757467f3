"""What the accessibility audit of the staff pages asked of their markup (the browser checks sizes,
keys and focus: tests/browser/test_staff_accessibility.py): the language of the parts (3.1.2),
scrolling tables as named regions (axe scrollable-region-focusable), named search landmarks,
table headers with a name, the dashboard's section headings, the skip link, and selects that
act only when their button is pressed (3.2.2); and the administration's tables, a card per row
on a phone, each value named by its column (data-label)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import tinycss2

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role, User
from casework.audit.operations import Change, record
from casework.cases.models import CannedReply, Case
from casework.registry.models import Unit
from tests.web.test_desk import signed_in

ENGLISH_TITLE = "Forced membership and a fee of 20,000 yuan"


@pytest.fixture
def handler(make_staff):
    return make_staff("miit", Role.handler)


@pytest.fixture
def cases(db, file_case, act):
    """A case filed in Chinese (accepted, so the reply is offered) and one filed in English."""
    chinese = file_case()
    act(chinese.case_id, "accept")
    english = file_case(title=ENGLISH_TITLE, description="The association made our company join and pay a fee.")
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.id == english.case_id).values(locale="en"))
    return chinese, english


def unit(db, code):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


def test_case_text_says_its_language_where_it_is_not_the_pages(client, db, handler, cases):
    chinese, english = cases
    with db.session_scope() as s:
        s.get(User, handler.user_id).display_name = "王晓明"
    signed_in(client, db, handler)
    # a Chinese page: the English filing is marked, the Chinese one and the staff name are not
    page = client.get(f"/desk/cases/{english.case_number}").get_data(as_text=True)
    assert f'<dd id="case-title" lang="en">{ENGLISH_TITLE}</dd>' in page
    assert '<p class="description" id="case-description" lang="en">' in page
    assert '<span class="who" id="staff-name">王晓明</span>' in page
    page = client.get(f"/desk/cases/{chinese.case_number}").get_data(as_text=True)
    assert '<dd id="case-title">强制入会并收取会费</dd>' in page
    queue = client.get(f"/desk/units/{unit(db, 'miit')}?tab=pending").get_data(as_text=True)
    assert f'<span lang="en">{ENGLISH_TITLE}</span>' in queue
    # an English page: the Chinese filing, its words in the timeline and the staff names are marked
    client.set_cookie("lang", "en")
    page = client.get(f"/desk/cases/{chinese.case_number}").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert '<dd id="case-title" lang="zh-CN">强制入会并收取会费</dd>' in page
    assert '<p class="description" id="case-description" lang="zh-CN">' in page
    assert '<span class="who" id="staff-name" lang="zh-CN">王晓明</span>' in page
    assert re.search(r'<span class="who" lang="zh-CN">工业和信息化部[^<]*</span>', page)  # who accepted it (timeline)
    page = client.get(f"/desk/cases/{english.case_number}").get_data(as_text=True)
    assert f'<dd id="case-title">{ENGLISH_TITLE}</dd>' in page
    queue = client.get(f"/desk/units/{unit(db, 'miit')}?tab=handling").get_data(as_text=True)
    assert '<span lang="zh-CN">强制入会并收取会费</span>' in queue


def test_the_desk_has_a_skip_link_first_and_named_search_landmarks(client, db, handler, cases):
    signed_in(client, db, handler)
    page = client.get("/desk/search?q=会费").get_data(as_text=True)
    body = page[page.index("<body"):]
    first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body[body.index(">") + 1:])
    assert first.group(0) == '<a class="skip-link" href="#main">'
    assert ">跳到正文</a>" in page and '<main id="main" class="desk-main" tabindex="-1">' in page
    labels = re.findall(r'role="search" aria-label="([^"]+)"', page)
    assert sorted(labels) == ["按编号查找", "案件检索"]  # two search landmarks, each named
    assert page.count('role="search"') == 2


def test_selects_act_only_when_their_button_is_pressed(client, db, handler, cases):
    chinese, _english = cases
    with db.session_scope() as s:
        s.add(CannedReply(unit_id=unit(db, "miit"), title="已退费", body="经核查，协会已退还相关费用。"))
    signed_in(client, db, handler)
    page = client.get(f"/desk/cases/{chinese.case_number}").get_data(as_text=True)
    assert "data-autosubmit" not in page
    assert re.search(r'<select id="unit-switch" name="unit">', page)
    assert re.search(r'<select id="m-reply-canned">', page)  # no behaviour on the list itself
    fill = re.search(r'<button type="button" class="secondary small canned-fill" id="m-reply-canned-fill"[^>]*>', page,
                     re.S).group(0)
    assert 'data-canned-select="m-reply-canned"' in fill and 'data-canned-target="m-reply-public_text"' in fill
    assert 'data-confirm="' in fill and ">填入</button>" in page


REGION = re.compile(r'<div class="table-wrap"([^>]*)>')


def regions(html):
    """Every .table-wrap's attributes: each must be a named region the keyboard reaches."""
    found = []
    for attrs in REGION.findall(html):
        label = re.search(r'aria-label="([^"]*)"', attrs) or re.search(r'aria-labelledby="([^"]*)"', attrs)
        found.append(('tabindex="0"' in attrs and 'role="region"' in attrs, label.group(1) if label else ""))
    return found


def test_scrolling_tables_are_named_regions(client, db, make_staff, hand_counted, file_case, act):
    from datetime import datetime, timezone

    from casework.stats.rollup import refresh

    refresh(db, lambda: datetime.now(timezone.utc))
    supervisor = make_staff("mca", Role.supervisor)
    signed_in(client, db, supervisor)
    dash = client.get("/supervise").get_data(as_text=True)
    for key in ("monthly", "categories", "associations"):
        figure = dash[dash.index(f'id="table-{key}"'):]
        caption = re.search(r'<figcaption><h2 class="figure-heading" id="table-[a-z]+-heading">([^<]+)</h2>', figure).group(1)
        assert re.search(r'<div class="table-wrap" tabindex="0" role="region" aria-label="%s">' % re.escape(caption),
                         figure)
    assert dash.count("<h1") == 1 and dash.count('class="figure-heading"') >= 4  # a heading a section
    assert '<h2 class="visually-hidden" id="totals-heading">' in dash
    pages = [dash] + [client.get(p).get_data(as_text=True) for p in ("/supervise/overdue", "/supervise/risk")]
    client.post("/staff/logout", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', dash).group(1)})
    admin = make_staff("mca", Role.administrator)
    signed_in(client, db, admin)
    for path in ("/admin/routing", "/admin/calendar", "/admin/users", "/admin/units", "/admin/categories",
                 "/admin/time-limits", "/admin/associations", "/admin/notice-templates", "/admin/document-templates",
                 "/admin/joint-mediation", "/admin/audit"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        pages.append(resp.get_data(as_text=True))
    found = [r for html in pages for r in regions(html)]
    assert len(found) >= 15 and all(ok and label for ok, label in found), found
    labels = [label for html in pages for _ok, label in regions(html)]
    for html in pages:  # within a page, no two regions share a name (axe landmark-unique)
        mine = [label for _ok, label in regions(html)]
        assert len(mine) == len(set(mine)), mine
    assert labels


def test_the_calendars_action_columns_have_a_name(client, db, make_staff):
    signed_in(client, db, make_staff("mca", Role.administrator))
    page = client.get("/admin/calendar").get_data(as_text=True)
    for table in ("years", "overrides"):
        head = re.search(rf'<table class="[^"]*" id="{table}">\s*<thead>(.*?)</thead>', page, re.S).group(1)
        assert "<th></th>" not in head and '<th scope="col"><span class="visually-hidden">操作</span></th>' in head


def test_an_admin_page_skips_its_thirteen_links_to_its_content(client, db, make_staff):
    """WCAG 2.4.1 (bypass blocks): the administration's navigation stands before every page's
    content; the first thing a keyboard reaches is the link past it, to the content (the change
    just made comes first there)."""
    from tests.web.test_admin_routing import login_as

    login_as(client, db, make_staff("mca", Role.administrator))
    page = client.get("/admin/units").get_data(as_text=True)
    body = page[page.index("<body"):]
    first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body[body.index(">") + 1:])
    assert first.group(0) == '<a class="skip-link" href="#admin-content">'
    nav, content = page.index('<nav class="admin-nav"'), page.index('<div id="admin-content" tabindex="-1">')
    assert nav < content < page.index("<h1", content)
    assert ">跳到正文</a>" in page


class _Tables(HTMLParser):
    """The tables of a page: each one's classes, column headers and, per body row, each cell as
    (column index, tag, data-label or None); a cell spanning columns is left out."""

    def __init__(self):
        super().__init__()
        self.tables, self.text, self.part = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"classes": (a.get("class") or "").split(), "headers": [], "rows": []})
        elif not self.tables:
            return
        elif tag in ("thead", "tbody"):
            self.part = tag
        elif tag == "tr" and self.part == "tbody":
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td") and self.part == "thead":
            self.text = ""
        elif tag in ("th", "td") and self.part == "tbody" and "colspan" not in a:
            row = self.tables[-1]["rows"][-1]
            row.append((len(row), tag, a.get("data-label")))

    def handle_endtag(self, tag):
        if tag == "th" and self.part == "thead" and self.text is not None:
            self.tables[-1]["headers"].append(self.text.strip())
            self.text = None
        elif tag == "table":
            self.part = None

    def handle_data(self, data):
        if self.text is not None:
            self.text += data


ADMIN_TABLES = ("/admin/users", "/admin/audit", "/admin/units", "/admin/associations", "/admin/categories",
                "/admin/routing?case_type=complaint&category=illegal_fees", "/admin/notice-templates",
                "/admin/document-templates", "/admin/time-limits", "/admin/calendar")
UNLABELLED = {"操作", "Actions"}  # its links say what they do


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_administration_table_names_each_value_by_its_column(client, db, make_staff, lang):
    """A staff account, a unit, a change's before and after, …: on a phone each row is a card and each
    value says which column it is (td data-label = the column's header); it scrolled sideways in its box."""
    admin = make_staff("mca", Role.administrator)
    with db.session_scope() as s:
        record(s, admin, Change("unit", "updated", "miit", {"notice_email": ""}, {"notice_email": "x@miit.example.gov.cn"}))
    signed_in(client, db, admin)
    client.set_cookie("lang", lang)
    checked = 0
    for path in ADMIN_TABLES:
        parser = _Tables()
        parser.feed(client.get(path).get_data(as_text=True))
        assert parser.tables, path
        for table in parser.tables:
            assert "cards" in table["classes"], (path, table["headers"])
            for row in table["rows"]:
                for i, tag, label in row:
                    header = table["headers"][i]
                    if tag == "th" or header in UNLABELLED:
                        assert label is None, (path, header)
                    else:
                        assert label == header, (path, i, header, label)
                        checked += 1
    assert checked > 100


def test_the_stylesheet_shows_a_cards_values_by_their_column_names_on_a_phone():
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "desk.css").read_text(encoding="utf-8")
    phone = [r for r in tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
             if r.type == "at-rule" and r.lower_at_keyword == "media" and "max-width: 40rem" in tinycss2.serialize(r.prelude)]
    rules = {tinycss2.serialize(r.prelude).strip(): tinycss2.serialize(r.content)
             for m in phone for r in tinycss2.parse_rule_list(m.content, skip_whitespace=True, skip_comments=True)
             if r.type == "qualified-rule"}
    assert "attr(data-label)" in rules["table.cards td[data-label]::before"]
    assert "display:none" in rules["table.cards thead"].replace(" ", "")
