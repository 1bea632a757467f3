"""Issue 16: a handler finds a case by its number from the desk header. An exact number opens
the case; a number of another unit's case answers exactly as a number never issued; the desk
search treats a case number as a direct hit."""
import re

import pytest
from stdnum import luhn

from casework.accounts.models import Role
from tests.web.test_admin_routing import login_as


@pytest.fixture
def numbers(file_case):
    """A case at 工业和信息化部 (miit) and one at the triage queue (no association)."""
    return file_case().case_number, file_case(association="unknown", association_hint="某某商会").case_number


def spaced(number: str) -> str:
    """As a person types it off a letter: lower case, with spaces and a dash."""
    return f"{number[:2].lower()} {number[2:10]}-{number[10:]}"


def test_the_desk_header_has_a_find_by_number_box(client, db, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    html = client.get("/desk/search").get_data(as_text=True)
    box = re.search(r'<form class="find-number" method="get" action="/desk/find" role="search" aria-label="按编号查找">'
                    r'(.*?)</form>', html, re.S)
    assert box and '<label for="find-number">按编号查找</label>' in box.group(1) and 'name="number"' in box.group(1)
    # the page's own search form is the other search landmark: each has a name of its own (axe landmark-unique)
    assert '<form class="filters search" method="get" action="/desk/search" role="search" aria-label="案件检索">' in html


def test_an_exact_number_opens_the_case(client, db, make_staff, numbers):
    mine, _ = numbers
    login_as(client, db, make_staff("miit", Role.handler))
    resp = client.get("/desk/find", query_string={"number": spaced(mine)})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/desk/cases/{mine}"


def test_another_units_case_answers_as_a_number_never_issued(client, db, make_staff, numbers):
    mine, theirs = numbers
    login_as(client, db, make_staff("samr", Role.handler))
    body = mine[2:10] + ("00000" if mine[10:15] != "00000" else "11111")
    never = mine[:2] + body + luhn.calc_check_digit(body)  # well formed, never issued
    answers = []
    for typed in (mine, theirs, never):
        resp = client.get("/desk/find", query_string={"number": typed})
        html = resp.get_data(as_text=True)
        message = re.search(r'<div class="error-summary" role="alert" id="find-result"[^>]*><p>([^<]*)</p>', html)
        assert resp.status_code == 200 and message, typed
        answers.append(message.group(1).replace(typed, "<n>"))
    assert answers[0] == answers[1] == answers[2] == "未找到编号为 <n> 的案件。"


def test_the_desk_search_takes_a_case_number_as_a_direct_hit(client, db, make_staff, numbers):
    mine, _ = numbers
    login_as(client, db, make_staff("miit", Role.handler))
    resp = client.get("/desk/search", query_string={"q": spaced(mine)})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/desk/cases/{mine}"
    login_as(client, db, make_staff("triage", Role.triage_operator))
    assert client.get("/desk/search", query_string={"q": mine}).status_code == 200  # not theirs: no hit
