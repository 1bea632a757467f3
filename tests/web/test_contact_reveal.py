"""Staff see a complaint's or a mediation's contact details with a reason (issue 16, defect 4):
the handler or lead of the unit holding the case, on this answer only, never cached, with an
audit entry that keeps the reason and never the details; nobody else, and never a report's
identity this way (that stays behind the custodian's approval)."""
import json
import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Role, User
from casework.audit.models import AuditEntry, AuditKind
from casework.cases.models import Case, EventKind
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PHONE, EMAIL = "13800138000", "zhangsan@example.com"
RESPONDENT_PHONE = "13900139000"
REASON = "电话联系投诉人核实入会情况"


def signed_in(app, db, actor):
    client = app.test_client()
    login_as(client, db, actor)
    return client


def reveal(client, number, reason):
    page = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    return client.post(f"/desk/cases/{number}/contact", data={"csrf_token": CSRF.search(page).group(1),
                                                              "reason": reason})


def audit_rows(db, number):
    with db.session_scope(write=False) as s:
        return [(e.actor_name, e.before, e.after) for e in s.scalars(
            select(AuditEntry).where(AuditEntry.kind == AuditKind.contact_details, AuditEntry.object_id == number))]


@pytest.fixture
def complaint(file_case):
    return file_case(complainant={"name": "张三", "phone": PHONE, "email": EMAIL})


def test_a_handler_of_the_unit_sees_the_phone_after_giving_a_reason_and_the_audit_keeps_the_reason_only(
        app, client, db, make_staff, complaint):
    number = complaint.case_number
    me = make_staff("miit", Role.handler)
    handler = signed_in(app, db, me)
    page = handler.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert PHONE not in page and "138****8000" in page and 'id="move-reveal_contact"' in page

    shown = reveal(handler, number, REASON)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "no-store" in shown.headers["Cache-Control"]
    assert f'id="contact-complainant-phone"><a href="tel:{PHONE}">{PHONE}</a>' in html
    assert EMAIL in html and "张三" in html

    # recorded: who, which case, the reason, which fields; never the values
    [(who, before, after)] = audit_rows(db, number)
    with db.session_scope(write=False) as s:
        assert who == s.get(User, me.user_id).username
    assert after["reason"] == REASON and after["case"] == number
    assert set(after["fields"]) == {"complainant.name", "complainant.phone", "complainant.email"}
    dumped = json.dumps([before, after], ensure_ascii=False)
    assert PHONE not in dumped and EMAIL not in dumped and "张三" not in dumped
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == number))
        [event] = [e for e in case.events if e.kind is EventKind.contact_viewed]
        assert event.internal_text == REASON and not event.is_public
        assert PHONE not in json.dumps([event.summary, event.data], ensure_ascii=False)

    # the next view of the page is masked again
    again = handler.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert PHONE not in again and 'id="contact-details"' not in again

    # the administrators' audit view lists it with the reason and the case
    admin = signed_in(app, db, make_staff("mca", Role.administrator))
    log = admin.get("/admin/audit?kind=contact_details").get_data(as_text=True)
    assert REASON in log and number in log and PHONE not in log

    # the complainant's status page does not show it
    public = app.test_client()
    track = public.get("/track").get_data(as_text=True)
    assert public.post("/track", data={"csrf_token": CSRF.search(track).group(1), "number": number,
                                       "code": complaint.query_code}).status_code == 303
    status = public.get(f"/track/{number}").get_data(as_text=True)
    assert number in status and REASON not in status


def test_without_a_reason_the_form_errors_and_shows_nothing(app, db, make_staff, complaint):
    number = complaint.case_number
    handler = signed_in(app, db, make_staff("miit", Role.unit_lead))
    for reason in ("", "   ", "电话"):
        refused = reveal(handler, number, reason)
        html = refused.get_data(as_text=True)
        assert refused.status_code == 422
        assert 'id="m-reveal_contact-reason-error"' in html and PHONE not in html and EMAIL not in html
        assert "no-store" in refused.headers["Cache-Control"]
    assert audit_rows(db, number) == []


def test_staff_who_do_not_handle_the_case_get_nothing(app, db, make_staff, complaint):
    number = complaint.case_number
    # a handler of another unit: the case does not exist for them
    other = signed_in(app, db, make_staff("mca", Role.handler))
    assert reveal_blind(other, number).status_code == 404
    # a supervisor sees the case, read only: no form, and the post is refused
    supervisor = signed_in(app, db, make_staff("mca", Role.supervisor))
    page = supervisor.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-reveal_contact"' not in page
    refused = reveal(supervisor, number, REASON)
    assert refused.status_code == 403 and PHONE not in refused.get_data(as_text=True)
    # an administrator is given no case content
    admin = signed_in(app, db, make_staff("mca", Role.administrator))
    got = reveal_blind(admin, number, "/admin/routing/new")
    assert got.status_code in (403, 404) and PHONE not in got.get_data(as_text=True)
    assert audit_rows(db, number) == []


def reveal_blind(client, number, page="/desk/search"):
    """A post from someone who cannot open the case page: a token from a page they can open."""
    token = CSRF.search(client.get(page).get_data(as_text=True))
    return client.post(f"/desk/cases/{number}/contact", data={"csrf_token": token.group(1) if token else "",
                                                              "reason": REASON})


def test_a_report_offers_no_such_form_and_keeps_its_custodian_reveal(app, db, make_staff, file_case):
    number = file_case(type="report", complainant={"name": "李四", "phone": PHONE}).case_number
    handler = signed_in(app, db, make_staff("miit", Role.handler))
    page = handler.get(f"/desk/cases/{number}").get_data(as_text=True)
    assert 'id="move-reveal_contact"' not in page and 'id="move-request_reveal"' in page
    refused = reveal(handler, number, REASON)
    assert refused.status_code == 403 and PHONE not in refused.get_data(as_text=True)
    assert audit_rows(db, number) == []


def test_a_mediator_of_the_body_sees_both_parties(app, db, make_staff, mediation):
    number = mediation.case_number
    mediator = signed_in(app, db, make_staff("caam-mediation", Role.handler))
    shown = reveal(mediator, number, "电话联系双方当事人安排调解")
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "no-store" in shown.headers["Cache-Control"]
    assert f">{PHONE_OF_APPLICANT}</a>" in html and f">{RESPONDENT_PHONE}</a>" in html
    assert "某某零部件有限公司" in html
    [(_who, _before, after)] = audit_rows(db, number)
    assert {"complainant.phone", "respondent.phone", "respondent.name"} <= set(after["fields"])
    assert RESPONDENT_PHONE not in json.dumps(after, ensure_ascii=False)


PHONE_OF_APPLICANT = "13800138000"  # submission_data's complainant


def test_through_the_staff_api_the_answer_carries_the_details_once_and_is_not_cached(client, db, make_staff,
                                                                                     complaint):
    from tests.web.test_desk_api import get, move, token_for, version_of

    number = complaint.case_number
    token = token_for(db, make_staff("miit", Role.handler))
    detail = get(client, token, f"/cases/{number}").get_json()
    assert "reveal_contact" in detail["allowed_moves"] and PHONE not in json.dumps(detail)
    short = move(client, token, number, "reveal_contact", version=version_of(client, token, number), reason="看")
    assert short.status_code == 422 and "reason" in short.get_json()["errors"]
    shown = move(client, token, number, "reveal_contact", version=version_of(client, token, number), reason=REASON)
    assert shown.status_code == 200 and "no-store" in shown.headers["Cache-Control"]
    assert shown.get_json()["contact"]["complainant"]["phone"] == PHONE
    [(_who, _before, after)] = audit_rows(db, number)
    assert after["reason"] == REASON and PHONE not in json.dumps(after)
    assert PHONE not in json.dumps(get(client, token, f"/cases/{number}").get_json())
