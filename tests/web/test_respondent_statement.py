"""The respondent puts its side in writing (书面意见) on its page: after it agreed to mediation and
while it goes on, with files as the applicant's evidence takes them; each statement kept and dated;
the mediation body's staff read it on the case page, the applicant does not.

人民调解法 第二十三条 (四) gives each party the right to state its own will (自主表达意愿), and 第二十二条 has
the mediator hear the parties (充分听取当事人的陈述) and propose a solution; neither says that one party's
written statement is shown to the other. The platform's choice: the applicant does not see it, and the
mediator decides what to raise in a session.
"""
import io
import re

from PIL import Image
from sqlalchemy import select

from casework.cases.models import ActorKind, Attachment, Case, CaseState as S, EventKind
from tests.refused_moves import followed
from tests.web.test_mediation_web import (  # noqa: F401 (the coordinator fixture)
    CSRF, VERSION, accept, consent, coordinator, desk_move, open_as_applicant, open_as_respondent,
)

STATEMENT = "我司已按合同交付全部零部件，对方拖欠货款属实，但其中两批货物存在质量争议。建议先由第三方检测，再按结果分期付款。"
MORE = "补充：第三方检测机构的报价单见附件。"


def png(color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


def send(client, number, headers=None, **fields):
    page = client.get(f"/respond/{number}", headers=headers or {}).get_data(as_text=True)
    data = {"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1), **fields}
    return client.post(f"/respond/{number}/moves/respondent_statement", data=data, headers=headers or {},
                       content_type="multipart/form-data")


def statements(db, case_id):
    with db.session_scope(write=False) as s:
        return [(ev.actor_kind, ev.kind, ev.internal_text, ev.public_text, [(a.filename, a.role) for a in ev.files])
                for ev in s.get(Case, case_id).mediation.statements]


def test_the_respondent_writes_only_once_it_agreed_and_while_mediation_goes_on(app, client, db, coordinator, mediation):
    """人民调解法 第二十三条 (四) (自主表达意愿): the respondent's statement is part of a mediation it agreed to;
    before its consent the request waits for its answer, and after the end there is no mediation to inform."""
    number = mediation.case_number
    code = accept(client, mediation)
    respondent = app.test_client()
    assert open_as_respondent(respondent, number, code).status_code == 303
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert 'id="statement-form"' not in page  # it has not agreed yet
    early = followed(respondent, send(respondent, number, statement=STATEMENT))
    assert early.status_code == 422 and "待被申请人答复" in early.get_data(as_text=True)
    assert STATEMENT in early.get_data(as_text=True)  # what was typed comes back
    assert statements(db, mediation.case_id) == []

    respondent = consent(app, mediation, code)
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert 'id="statement-form"' in page and 'enctype="multipart/form-data"' in page
    assert "申请人看不到" in page  # it is told who reads it
    assert send(respondent, number, statement=STATEMENT).status_code == 303
    assert send(respondent, number, statement=STATEMENT).status_code == 303  # a second one, later
    resp = respondent.post(f"/respond/{number}/moves/respondent_end_mediation", data={
        "csrf_token": CSRF.search(page).group(1), "version": VERSION.search(
            respondent.get(f"/respond/{number}").get_data(as_text=True)).group(1), "confirm": "1"})
    assert resp.status_code == 303
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert 'id="statement-form"' not in page and STATEMENT in page  # the statements stay listed
    with db.session_scope(write=False) as s:  # a form sent from a page opened before the end
        version = s.get(Case, mediation.case_id).version
    late = followed(respondent, respondent.post(f"/respond/{number}/moves/respondent_statement", data={
        "csrf_token": CSRF.search(page).group(1), "version": version, "statement": MORE}))
    assert late.status_code == 422 and MORE in late.get_data(as_text=True)
    assert 'id="kept-statement"' in late.get_data(as_text=True)  # the form is gone: the text is kept to copy
    assert [t for _a, _k, t, _p, _f in statements(db, mediation.case_id)] == [STATEMENT, STATEMENT]


def test_each_statement_is_kept_dated_with_its_files_and_the_desk_reads_them(app, client, db, coordinator, mediation):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    resp = send(respondent, number, statement=STATEMENT, files=(io.BytesIO(png()), "质检报告.png"))
    assert resp.status_code == 303
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    assert "您的书面意见已送交调解组织" in page
    listed = page[page.index('id="statement-list"'):]
    assert STATEMENT in listed and "质检报告.png" in listed
    assert send(respondent, number, statement=MORE, files=(io.BytesIO(png((0, 0, 0))), "报价单.png")).status_code == 303

    # nothing is overwritten: two events of the respondent, each with its text and its file
    assert statements(db, mediation.case_id) == [
        (ActorKind.respondent, EventKind.note, STATEMENT, None, [("质检报告.png", "respondent")]),
        (ActorKind.respondent, EventKind.note, MORE, None, [("报价单.png", "respondent")])]
    page = respondent.get(f"/respond/{number}").get_data(as_text=True)
    listed = page[page.index('id="statement-list"'):]
    assert listed.index(STATEMENT) < listed.index(MORE) and "报价单.png" in listed
    assert len(re.findall(r"<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}</time>", listed)) == 2

    # the desk's case page: the statements in the mediation section, each file a download
    desk = client.get(f"/desk/cases/{number}").get_data(as_text=True)
    section = desk[desk.index('id="mediation"'):]
    section = section[:section.index("</section>")]
    assert STATEMENT in section and MORE in section
    with db.session_scope(write=False) as s:
        att = s.scalar(select(Attachment).where(Attachment.case_id == mediation.case_id,
                                                Attachment.filename == "质检报告.png"))
    assert f"/desk/cases/{number}/files/{att.id}" in section
    assert client.get(f"/desk/cases/{number}/files/{att.id}").data.startswith(b"\x89PNG")
    assert "申请人看不到" in section
    files = desk[desk.index('id="case-files"'):]
    assert "被申请人提交（申请人看不到）" in files[:files.index("</ul>")]  # among the case's files, marked


def test_the_applicant_does_not_see_the_respondents_statement(app, client, db, coordinator, mediation):
    """人民调解法 第二十二条 has the mediator hear each party and 第二十三条 lists the parties' rights; no article
    gives a party the other's written statement: the mediator decides what to raise in a session."""
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    assert send(respondent, number, statement=STATEMENT, files=(io.BytesIO(png()), "质检报告.png")).status_code == 303
    applicant = app.test_client()
    open_as_applicant(applicant, mediation)
    page = applicant.get(f"/track/{number}").get_data(as_text=True)
    assert STATEMENT not in page and "书面意见" not in page and "质检报告.png" not in page
    api = applicant.get(f"/api/v1/cases/{number}", headers={"X-Query-Code": mediation.query_code})
    assert api.status_code == 200 and STATEMENT not in api.get_data(as_text=True)
    assert "质检报告.png" not in api.get_data(as_text=True)


def test_bad_input_says_what_is_wrong_and_keeps_what_was_typed(app, client, db, coordinator, mediation, settings):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    zh = {"Accept-Language": "zh-CN"}
    short = followed(respondent, send(respondent, number, zh, statement="好"))
    assert short.status_code == 422 and "请填写2至5000个字" in short.get_data(as_text=True).replace(" ", "")
    assert ">好</textarea>" in short.get_data(as_text=True)
    empty = followed(respondent, send(respondent, number, zh, statement=""))
    assert empty.status_code == 422 and "请写明您对纠纷的陈述和处理建议" in empty.get_data(as_text=True)
    long = "长" * 5001
    too_long = followed(respondent, send(respondent, number, zh, statement=long))
    assert too_long.status_code == 422 and f">{long}</textarea>" in too_long.get_data(as_text=True)
    wrong = followed(respondent, send(respondent, number, zh, statement=STATEMENT,
                                      files=(io.BytesIO(b"<html>not a photo</html>"), "合同.png")))
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "合同.png" in body and f">{STATEMENT}</textarea>" in body
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * settings.max_file_bytes
    too_big = followed(respondent, send(respondent, number, zh, statement=STATEMENT, files=(io.BytesIO(big), "大图.png")))
    body = too_big.get_data(as_text=True)
    assert too_big.status_code == 422 and "大图.png" in body and "MB" in body and f">{STATEMENT}</textarea>" in body
    # a good file with a refused text is kept for the next send, ticked
    kept = followed(respondent, send(respondent, number, zh, statement="好", files=(io.BytesIO(png()), "照片.png")))
    assert kept.status_code == 422 and 'id="respondent_statement-kept"' in kept.get_data(as_text=True)
    keep = re.search(r'name="keep_file" value="(\d+)"', kept.get_data(as_text=True)).group(1)
    assert send(respondent, number, zh, statement=STATEMENT, keep_file=keep).status_code == 303
    assert statements(db, mediation.case_id)[0][4] == [("照片.png", "respondent")]


def test_the_mediation_body_is_told_and_its_queue_marks_the_case(app, client, db, services, coordinator, mediation):
    from casework.notify.models import OutboxMessage
    from casework.workflow.machine import perform

    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    assert send(respondent, number, statement=STATEMENT).status_code == 303
    assert send(respondent, number, statement=MORE).status_code == 303
    with db.session_scope(write=False) as s:
        case = s.get(Case, mediation.case_id)
        unit_id = case.unit_id
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == mediation.case_id,
                                                     OutboxMessage.template == "respondent_statement")).all()
        # one e-mail per statement to the body's mailbox (the case number only: the template's)
        assert case.unit.notice_email and [m.channel.value for m in told] == ["email", "email"]
    queue = client.get(f"/desk/units/{unit_id}?tab=handling", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    row = queue[queue.index(f'id="row-{number}"'):]
    assert "新材料" in row[:row.index("</tr>")]
    with db.session_scope() as s:  # staff act on the case: the mark goes
        perform(s, services, coordinator, s.get(Case, mediation.case_id), "note", internal_text="已阅被申请人意见。")
    queue = client.get(f"/desk/units/{unit_id}?tab=handling", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    row = queue[queue.index(f'id="row-{number}"'):]
    assert "新材料" not in row[:row.index("</tr>")]


def test_the_answer_code_pasted_into_a_statement_is_refused_with_the_text_kept(app, client, db, coordinator, mediation):
    """Staff read the statement: the respondent's own code in it would give them the key to its page."""
    number = mediation.case_number
    code = accept(client, mediation)
    respondent = consent(app, mediation, code)
    text = f"我方答复码是 {code}，请调解员联系。"
    resp = followed(respondent, send(respondent, number, {"Accept-Language": "zh-CN"}, statement=text))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "含有您的答复码" in body and f">{text}</textarea>" in body
    assert statements(db, mediation.case_id) == []


def test_in_english(app, client, db, coordinator, mediation):
    number = mediation.case_number
    respondent = consent(app, mediation, accept(client, mediation))
    respondent.set_cookie("lang", "en")
    en = {}
    page = respondent.get(f"/respond/{number}", headers=en).get_data(as_text=True)
    assert "Your side in writing" in page and "Your account of the dispute and what you propose" in page
    assert "the applicant does not see it" in page
    short = followed(respondent, send(respondent, number, en, statement="x"))
    assert short.status_code == 422 and "Between 2 and 5000 characters, please." in short.get_data(as_text=True)
    assert send(respondent, number, en, statement="We delivered every part; two batches are disputed.").status_code == 303
    page = respondent.get(f"/respond/{number}", headers=en).get_data(as_text=True)
    assert "Your written statement has been sent to the mediation body." in page
    with db.session_scope(write=False) as s:
        assert s.get(Case, mediation.case_id).state is S.mediating
