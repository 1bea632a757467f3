"""The audit log page: changes with before and after, reveals of a reporter's identity (who,
when, which case; nothing of the case), filters, pages; administrators only."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.audit.models import AuditEntry
from casework.audit.operations import Change, record
from casework.cases.models import ActorKind, Case, Event, EventKind
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def admin(client, db, make_staff):
    actor = make_staff("mca", Role.administrator)
    login_as(client, db, actor)
    return actor


def item(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start:html.index("</li>", start)]


@pytest.fixture
def reveal(db, file_case, make_staff):
    """A report whose reporter's identity a handler revealed (the reveal flow comes later:
    the event is written here as that flow will write it)."""
    handler = make_staff("miit", Role.handler)
    receipt = file_case(type="report", category="illegal_fees",
                        complainant={"name": "李举报", "phone": "13912345678"})
    with db.session_scope() as s:
        case = s.scalar(select(Case).where(Case.number == receipt.case_number))
        ev = Event(case=case, actor_kind=ActorKind.staff, actor_id=handler.user_id, kind=EventKind.identity_revealed,
                   summary="identity revealed by staff", internal_text="核实线索需要联系举报人",
                   data={"reason": "核实线索需要联系举报人"})
        s.add(ev)
        s.flush()
        return {"event_id": ev.id, "number": receipt.case_number, "handler": s.get(User, handler.user_id).username}


def test_a_reveal_is_listed_with_who_when_and_the_case_number_only(client, admin, reveal):
    html = client.get("/admin/audit").get_data(as_text=True)
    row = item(html, f"reveal-{reveal['event_id']}")
    assert reveal["number"] in row and reveal["handler"] in row
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row)
    for secret in ("李举报", "13912345678", "139****5678", "核实线索"):
        assert secret not in html  # neither the identity nor anything of the case
    only = client.get("/admin/audit?kind=identity_revealed").get_data(as_text=True)
    assert f'id="reveal-{reveal["event_id"]}"' in only and 'id="audit-' not in only
    by_case = client.get("/admin/audit", query_string={"object_id": reveal["number"]}).get_data(as_text=True)
    assert f'id="reveal-{reveal["event_id"]}"' in by_case
    by_who = client.get("/admin/audit", query_string={"actor": reveal["handler"]}).get_data(as_text=True)
    assert f'id="reveal-{reveal["event_id"]}"' in by_who


def test_an_edit_made_on_a_page_shows_in_the_log_with_before_and_after(client, db, admin):
    token = CSRF.search(client.get("/admin/categories/illegal_fees/edit").get_data(as_text=True)).group(1)
    with db.session_scope(write=False) as s:
        from casework.cases.models import Category

        cat = s.scalar(select(Category).where(Category.code == "illegal_fees"))
        old = {"name": cat.name, "name_en": cat.name_en, "sort_order": str(cat.sort_order),
               "association_is_party": "1" if cat.association_is_party else ""}
    try:
        resp = client.post("/admin/categories/illegal_fees/edit",
                           data={"csrf_token": token, **old, "name": "违规收费（审计测试）"})
        assert resp.status_code == 303
        html = client.get("/admin/audit?kind=category&object_id=illegal_fees").get_data(as_text=True)
        with db.session_scope(write=False) as s:
            entry_id = s.scalar(select(AuditEntry.id).where(AuditEntry.object_id == "illegal_fees")
                                .order_by(AuditEntry.id.desc()))
        row = item(html, f"audit-{entry_id}")
        assert old["name"] in row and "<strong>违规收费（审计测试）</strong>" in row
        assert 'class="changed"' in row
    finally:
        client.post("/admin/categories/illegal_fees/edit", data={"csrf_token": token, **old})


def test_filters_by_kind_actor_and_date(client, db, admin, make_staff):
    other = make_staff("mca", Role.administrator)
    with db.session_scope() as s:
        mine = record(s, admin, Change("unit", "updated", "filter-a", {"name": "甲"}, {"name": "乙"})).id
        theirs = record(s, other, Change("category", "updated", "filter-b", {"name": "丙"}, {"name": "丁"})).id
        other_name = s.get(User, other.user_id).username
    by_kind = client.get("/admin/audit?kind=unit").get_data(as_text=True)
    assert f'id="audit-{mine}"' in by_kind and f'id="audit-{theirs}"' not in by_kind
    by_actor = client.get("/admin/audit", query_string={"actor": other_name}).get_data(as_text=True)
    assert f'id="audit-{theirs}"' in by_actor and f'id="audit-{mine}"' not in by_actor
    assert f'<option value="{other_name}"' in by_actor
    future = client.get("/admin/audit?since=2999-01-01").get_data(as_text=True)
    assert 'id="audit-' not in future
    past = client.get("/admin/audit?until=2000-01-01").get_data(as_text=True)
    assert 'id="audit-' not in past
    bad = client.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422 and 'id="since-error"' in bad.get_data(as_text=True)
    assert 'value="yesterday"' in bad.get_data(as_text=True)
    crossed = client.get("/admin/audit?since=2026-12-01&until=2026-11-01")  # an empty log said nothing
    assert crossed.status_code == 422 and 'id="until-error"' in crossed.get_data(as_text=True)
    assert "截止日期早于起始日期。" in crossed.get_data(as_text=True)


def test_newest_first_and_in_pages(client, db, admin):
    with db.session_scope() as s:
        ids = [record(s, admin, Change("unit", "updated", f"paged-{n}", {"n": n}, {"n": n + 1})).id
               for n in range(55)]
    first = client.get("/admin/audit?kind=unit").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'id="audit-(\d+)"', first)]
    assert shown == sorted(shown, reverse=True) and len(shown) == 50 and shown[0] == ids[-1]
    assert 'rel="next"' in first and "kind=unit" in first[first.index('rel="next"') - 200:]
    second = client.get("/admin/audit?kind=unit&page=2").get_data(as_text=True)
    assert ids[4] in [int(i) for i in re.findall(r'id="audit-(\d+)"', second)]


def test_other_roles_are_refused(client, db, make_staff):
    for unit, role in (("miit", Role.handler), ("mca", Role.supervisor), ("triage", Role.triage_operator)):
        login_as(client, db, make_staff(unit, role))
        assert client.get("/admin/audit").status_code == 403
