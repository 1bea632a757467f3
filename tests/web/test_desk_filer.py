"""Issue 16, defect 10: the desk names the person who filed by the case's type — 投诉人
(complaint), 举报人 (report), 申请人 (mediation), 建议人 (suggestion) — in the identity card,
the timeline, the move forms and the staff API, where it said 投诉人 for every case."""
import html as htmllib
import re

import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as
from tests.web.test_desk_api import get, token_for


def unit_of(db, case_id) -> str:
    with db.session_scope(write=False) as s:
        return s.get(Case, case_id).unit.code


def desk_page(client, db, make_staff, receipt, role=Role.unit_lead) -> str:
    login_as(client, db, make_staff(unit_of(db, receipt.case_id), role))
    resp = client.get(f"/desk/cases/{receipt.case_number}")
    assert resp.status_code == 200
    return htmllib.unescape(resp.get_data(as_text=True))


def identity_heading(page: str) -> str:
    return re.search(r'<section class="card" id="identity">\s*<h2>([^<]*)</h2>', page).group(1)


def timeline_who(page: str) -> list[str]:
    return re.findall(r'<span class="who">([^<]*)</span>', page)


@pytest.fixture
def suggestion(file_case):
    return file_case(type="suggestion", category="suggestion_other", title="建议简化入会流程",
                     description="建议协会简化入会流程，减少企业提交的材料。")


def test_a_suggestion_is_filed_by_a_suggester_not_a_complainant(client, db, make_staff, suggestion):
    page = desk_page(client, db, make_staff, suggestion)
    assert identity_heading(page) == "建议人"
    assert "建议人" in timeline_who(page)             # who filed it, in the timeline
    assert "告知建议人（可不填）" in page               # the accept move's notice
    assert "投诉人" not in page


def test_a_mediation_request_is_filed_by_an_applicant(client, db, make_staff, mediation):
    page = desk_page(client, db, make_staff, mediation)
    assert identity_heading(page) == "申请人"
    assert "申请人" in timeline_who(page)
    assert "投诉人" not in page


def test_a_report_is_filed_by_a_reporter(client, db, make_staff, file_case):
    report = file_case(type="report", category="illegal_fees", title="协会违规收费",
                       description="协会以评比为名违规收取费用，要求企业缴纳赞助费。")
    page = desk_page(client, db, make_staff, report)
    assert identity_heading(page) == "举报人"
    assert "举报人" in timeline_who(page)
    assert "投诉人" not in page


def test_a_complaint_still_has_a_complainant_and_english_says_suggester(client, db, make_staff, file_case, suggestion):
    page = desk_page(client, db, make_staff, file_case())
    assert identity_heading(page) == "投诉人" and "告知投诉人（可不填）" in page
    client.set_cookie("lang", "en")
    page = desk_page(client, db, make_staff, suggestion)
    assert identity_heading(page) == "Suggester" and "Notice to the suggester (optional)" in page
    assert "complainant" not in page.lower().replace('id="complainant-', "").replace('name="complainant', "")


def test_the_staff_api_says_what_the_person_who_filed_is_called(client, db, make_staff, file_case, mediation, suggestion):
    for receipt, word, english in ((file_case(), "投诉人", "complainant"), (mediation, "申请人", "applicant"),
                                   (suggestion, "建议人", "suggester")):
        token = token_for(db, make_staff(unit_of(db, receipt.case_id), Role.handler))
        assert get(client, token, f"/cases/{receipt.case_number}").get_json()["filer"] == word
        english_answer = get(client, token, f"/cases/{receipt.case_number}", headers={"Accept-Language": "en"})
        assert english_answer.get_json()["filer"] == english


def test_a_written_notice_to_a_suggester_without_a_name_is_addressed_to_the_suggester(db, services, file_case, act):
    from casework.documents.kinds import Document
    from tests.casework.test_documents import last

    receipt = file_case(type="suggestion", category="suggestion_other", title="建议简化入会流程",
                        description="建议协会简化入会流程，减少企业提交的材料。", complainant=None)
    with db.session_scope(write=False) as s:
        here = s.get(Case, receipt.case_id).unit
        other = s.scalar(select(Unit).where(Unit.id != here.id, Unit.active.is_(True), Unit.kind == here.kind)).id
    act(receipt.case_id, "transfer", unit_id=str(other), reason="other_unit_competent")
    text = last(db, services, receipt.case_id, Document.transfer)
    assert "建议人：" in text and "信访人" not in text


def test_a_suggesters_contact_details_are_headed_suggester(client, db, make_staff, suggestion):
    from tests.web.test_contact_reveal import reveal

    page = desk_page(client, db, make_staff, suggestion, role=Role.handler)
    assert 'id="move-reveal_contact"' in page
    shown = htmllib.unescape(reveal(client, suggestion.case_number, "电话联系建议人了解建议内容").get_data(as_text=True))
    assert re.findall(r"<h4>([^<]*)</h4>", shown[shown.index('id="contact-details"'):])[0] == "建议人"
