"""The warning in a move's form when no notice reaches the filer (no proved mobile number, no
e-mail): it points only to what this viewer can do on this page, and on a named report it says
nothing of what contact details the reporter gave (a report's identity is never shown without an
audited reveal). The walk found 查看联系方式 named where no such control was, and a report's reply
form telling its handler that the hidden reporter had no proved number and no e-mail."""
import re

from sqlalchemy import update

from casework.accounts.models import Role
from casework.cases.models import Case
from tests.web.test_admin_routing import login_as


def unreachable(db, number):
    with db.session_scope() as s:
        s.execute(update(Case).where(Case.number == number).values(phone_verified_via="unverified",
                                                                   complainant_email_enc=None))


def warning(page, move):
    found = re.search(rf'<p class="warning" id="untold-{move}">(.*?)</p>', page, re.S)
    assert found, f"no warning in the form of {move}"
    return found.group(1)


def page_as(client, db, actor, number):
    login_as(client, db, actor)
    return client.get(f"/desk/cases/{number}").get_data(as_text=True)


def test_the_handler_of_a_complaint_is_pointed_to_the_contact_details_box(client, db, file_case, make_staff):
    number = file_case().case_number
    unreachable(db, number)
    page = page_as(client, db, make_staff("miit", Role.handler), number)
    said = warning(page, "request_info")
    assert said.startswith("系统无法通知投诉人：没有经验证的手机号码，也没有电子邮箱。")
    assert '请通过其他方式告知，例如电话联系（<a href="#move-reveal_contact">查看联系方式</a>）。' in said
    assert 'id="move-reveal_contact"' in page  # the control the link leads to is on this page


def test_triage_is_told_the_receiving_unit_tells_them_and_is_offered_no_control_it_lacks(client, db, file_case,
                                                                                        make_staff):
    triage = make_staff("triage", Role.triage_operator)
    complaint = file_case(association="unknown", association_hint="某某商会").case_number
    unreachable(db, complaint)
    page = page_as(client, db, triage, complaint)
    said = warning(page, "route")
    assert said == "系统无法通知投诉人：没有经验证的手机号码，也没有电子邮箱。需由接收案件的单位通过其他方式告知。"
    assert "查看联系方式" not in page
    # a named report in triage: nothing of the reporter's contact details either
    report = file_case(type="report", association="unknown", association_hint="某某商会").case_number
    unreachable(db, report)
    said = warning(client.get(f"/desk/cases/{report}").get_data(as_text=True), "route")
    assert said == "系统无法将此项办理情况通知举报人。需由接收案件的单位通过其他方式告知。"


def test_a_named_reports_handler_learns_nothing_of_the_reporters_contact_details(client, db, file_case, make_staff):
    number = file_case(type="report", title="协会违规收费", description="协会以评比为名违规收取费用，要求企业缴纳赞助费。").case_number
    unreachable(db, number)
    page = page_as(client, db, make_staff("miit", Role.handler), number)
    said = warning(page, "accept")
    assert said == ('系统无法将此项办理情况通知举报人。'
                    '如需通过其他方式告知，请先<a href="#move-request_reveal">申请查看举报人身份</a>。')
    assert 'id="move-request_reveal"' in page
    # not a word of a phone or an e-mail on the page, but the rule 合并处理 matches reports by, which
    # every report's merge form states whoever filed it
    for word in ("手机", "电话", "邮箱", "电子邮件", "短信", "查看联系方式"):
        assert word not in without_merge_form(page), word
    # in English too
    client.set_cookie("lang", "en")
    english = without_merge_form(client.get(f"/desk/cases/{number}").get_data(as_text=True))
    assert warning(english, "accept") == (
        'The system cannot tell the reporter of this step. To tell them another way, first: '
        '<a href="#move-request_reveal">Request to see the reporter\'s identity</a>.')
    for word in ("mobile", "phone", "e-mail", "Show contact details"):
        assert word not in english, word


def without_merge_form(page):
    start = page.index('id="move-merge_report"')
    return page[:start] + page[page.index("</details>", start):]
