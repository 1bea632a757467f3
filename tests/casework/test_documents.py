"""The written notices (书面告知): each move that owes the complainant a document makes it in
the move, stores it encrypted and records it; the PDF's Chinese text is extracted back.
Each test names the article that requires the document."""
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from casework.cases.models import Case, CaseState as S, Opinion
from casework.documents.kinds import Document
from casework.documents.models import CaseDocument
from casework.documents.operations import case_documents, check_text, document_bytes, reset_template, save_template
from casework.documents.texts import TEMPLATES
from casework.notify.models import OutboxMessage
from casework.registry.models import Unit
from casework.workflow.spec import InvalidMove
from tests.conftest import BASIS

pytestmark = pytest.mark.usefixtures("cjk_pdf")

REPLY = "经核查，协会已退还会费两万元，并停止强制入会的做法。"


def pdf_text(data: bytes) -> str:
    """The text, lines joined again (a Chinese line breaks anywhere; an English one at a space)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\n", "") + "\n" + text.replace("\n", " ")


def documents(db, services, case_id) -> list[tuple[Document, str]]:
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        return [(d.kind, pdf_text(document_bytes(services, d))) for d in case_documents(s, case)]


def last(db, services, case_id, kind) -> str:
    found = [text for k, text in documents(db, services, case_id) if k is kind]
    assert found, f"no {kind.value} among {[k for k, _ in documents(db, services, case_id)]}"
    return found[-1]


def routed(db, file_case, **changes):
    receipt = file_case(**changes)
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == receipt.case_number))
        assert case.state is S.pending_acceptance, case.state
        return case.id, case.number


def test_acceptance_notice(db, services, file_case, act):
    """受理告知书: 信访工作条例 第二十三条 (written notice of acceptance and of the way it will be handled);
    a complaint's also cites 市场监督管理投诉举报处理办法 (2026) 第十五条 (the decision within 7 working days)."""
    case_id, number = routed(db, file_case)
    act(case_id, "accept")
    text = last(db, services, case_id, Document.acceptance)
    for part in ("受理告知书", number, "张三", "强制入会并收取会费", "予以受理", "书面答复", "第二十三条"):
        assert part in text, part
    assert "《信访工作条例》第二十三条；《市场监督管理投诉举报处理办法》第十五条" in basis_of(text, "zh_CN")
    with db.session_scope(write=False) as s:
        doc = s.scalar(select(CaseDocument).where(CaseDocument.case_id == case_id))
        assert doc.locale == "zh_CN" and doc.event_id is not None
        # encrypted at rest, and the notice says only that a document is there
        assert b"%PDF" not in services.files._path(doc.storage_key, "orig").read_bytes()
        templates = set(s.scalars(select(OutboxMessage.template).where(OutboxMessage.case_id == case_id)))
    assert "case_document" in templates


def test_non_acceptance_notice_gives_the_reason_and_the_remedies(db, services, file_case, act):
    """不予受理告知书: 信访工作条例 第二十三条 (tell where to turn) and 第三十一条 (legal procedures)."""
    case_id, number = routed(db, file_case)
    act(case_id, "not_accept", reason="other_procedure", public_text="该争议已由仲裁委员会受理。")
    text = last(db, services, case_id, Document.non_acceptance)
    for part in ("不予受理告知书", number, "不予受理", "不予受理的理由", "诉讼、仲裁、行政复议", "该争议已由仲裁委员会受理。",
                 "您可以采取的途径", "仲裁机构", "第三十一条"):
        assert part in text, part


def test_a_complaint_in_anothers_name_is_not_accepted_and_told_why(db, services, file_case, act):
    """市场监督管理投诉举报处理办法 (2026) 第十六条: (五) 提供虚假材料, (六) 冒用他人名义或者拒不配合
    市场监督管理部门核验真实身份信息 are grounds not to accept a 投诉; the notice names them and says
    how to file again. A report is a lead checked whoever sent it: the reason does not refuse one."""
    case_id, number = routed(db, file_case)
    act(case_id, "not_accept", reason="false_identity",
        public_text="投诉人使用的手机号码登记在他人名下，经核验非本人投诉。")
    text = last(db, services, case_id, Document.non_acceptance)
    for part in ("不予受理告知书", number, "冒用他人名义", "核验真实身份信息", "第十六条第五项、第六项",
                 "以本人真实身份", "授权委托书"):
        assert part in text, part
    report_id, _ = routed(db, file_case, type="report", category="illegal_fees")
    with pytest.raises(InvalidMove):
        act(report_id, "not_accept", reason="false_identity", public_text="经核验非本人举报，不予受理。")


def basis_of(text: str, locale: str) -> str:
    """The notice's 法律依据 section (the last), its lines joined as the language joins them."""
    joined, spaced = text.split("\n", 1)
    heading = "法律依据" if locale == "zh_CN" else "Legal basis"
    printed = joined if locale == "zh_CN" else spaced
    assert heading in printed, "no legal basis in the notice"
    return printed.rsplit(heading, 1)[1]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_non_acceptance_notice_cites_the_articles_its_reason_rests_on(db, services, file_case, act, locale):
    """The 不予受理告知书's legal basis names what the decision rests on, no more: 信访工作条例
    第二十三条 (the written notice) always; for a 投诉, 市场监督管理投诉举报处理办法 (2026) 第十五条
    (decide and tell the reason) and, for its grounds, the items of 第十六条 ((五)(六) for a complaint in
    another's name); 条例 第三十一条 only where the matter goes to a court, arbitration or review.
    Before, every notice cited 第三十一条 and none the 办法, whatever the reason."""
    zh = locale == "zh_CN"
    regulations = "《信访工作条例》" if zh else "Regulations on Letters and Visits"
    measures = "《市场监督管理投诉举报处理办法》" if zh else "Measures on Handling Complaints and Reports"
    art31, art15 = ("第三十一条", "第十五条") if zh else ("31", "15")

    def refused(reason, **filed):
        case_id, _ = routed(db, file_case, **filed)
        with db.session_scope() as s:
            s.execute(update(Case).where(Case.id == case_id).values(locale=locale))
        act(case_id, "not_accept", reason=reason, public_text="经审查，本事项不予受理的具体情况如上。")
        return basis_of(last(db, services, case_id, Document.non_acceptance), locale)

    outside = refused("outside_remit")
    assert regulations in outside and ("第二十三条" if zh else "article 23") in outside
    assert measures in outside and art15 in outside
    assert art31 not in outside and ("第十六条" if zh else "16(") not in outside

    elsewhere = refused("other_procedure")
    assert art31 in elsewhere and measures in elsewhere

    # 第三十六条第三款: after a 复核, the same facts and grounds are not accepted again
    final = refused("re_reviewed")
    assert ("第二十三条、第三十六条第三款" if zh else "articles 23 and 36(3)") in final and art31 not in final

    false_identity = refused("false_identity")
    for part in (("第十六条第五项、第六项",) if zh else ("16(5)", "16(6)")):
        assert part in false_identity, part

    # a report is a lead, not the reporter's own dispute: the 办法's articles on a 投诉 are not its basis
    report = refused("unverifiable", type="report", category="illegal_fees")
    assert regulations in report and measures not in report and art31 not in report


def test_transfer_notice_names_the_receiving_unit(db, services, file_case, act):
    """转送告知书: 信访工作条例 第二十三条 (tell the complainant where the matter was transferred)."""
    case_id, number = routed(db, file_case)
    with db.session_scope(write=False) as s:
        here = s.get(Case, case_id).unit
        other = s.scalar(select(Unit).where(Unit.id != here.id, Unit.active.is_(True), Unit.kind == here.kind))
        here_name, other_id, other_name = here.name, other.id, other.name
    act(case_id, "transfer", unit_id=str(other_id), reason="other_unit_competent")
    text = last(db, services, case_id, Document.transfer)
    for part in ("转送告知书", number, other_name, here_name, "其他机关、单位的职责范围", "查询码不变", "第二十三条"):
        assert part in text, part


def test_handling_opinion_states_finding_opinion_basis_and_review(db, services, file_case, act):
    """信访处理意见书: 信访工作条例 第三十二条 (the opinion) and 第三十五条 (复查 within 30 days of
    receipt, asked of the body one level above the unit that replied)."""
    case_id, number = routed(db, file_case)
    act(case_id, "accept")
    act(case_id, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY, finding="substantiated")
    with db.session_scope(write=False) as s:
        upper = s.get(Case, case_id).unit.supervising_unit
        assert upper is not None
        upper_name = upper.name
    text = last(db, services, case_id, Document.handling_opinion)
    for part in ("信访处理意见书", number, "您的请求", "协会要求我公司必须入会", "经调查核实的情况", "问题属实",
                 "处理意见", REPLY, "法律依据", "第三十二条", "第三十五条", "收到本意见书之日起30日内", upper_name,
                 "请求复查"):
        assert part in text, part


def test_a_complaints_reply_states_its_opinion_and_the_laws_it_rests_on(db, services, file_case, act):
    """信访工作条例 第三十二条: 信访处理意见书应当载明信访人投诉请求、事实和理由、处理意见及其法律法规依据, the
    opinion being one of (一) 予以支持, (二) 作出解释说明, (三) 不予支持. A complaint's reply without
    them is refused; the document states the opinion in the article's words and the laws the
    handler named; the case and the complainant's status keep the opinion."""
    case_id, number = routed(db, file_case)
    act(case_id, "accept")
    with pytest.raises(InvalidMove) as refused:
        act(case_id, "reply", public_text=REPLY, finding="not_substantiated")
    assert set(refused.value.errors) == {"opinion", "legal_basis"}
    with pytest.raises(InvalidMove) as refused:
        act(case_id, "reply", public_text=REPLY, opinion="partly", legal_basis=BASIS)
    assert set(refused.value.errors) == {"opinion"}
    act(case_id, "reply", public_text=REPLY, finding="not_substantiated", opinion="not_supported",
        legal_basis="《评比达标表彰活动管理办法》")
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        assert case.state is S.replied and case.opinion is Opinion.not_supported
    text = last(db, services, case_id, Document.handling_opinion)
    for part in ("三、处理意见", "不予支持", REPLY, "四、法律依据", "《评比达标表彰活动管理办法》",
                 "本意见书依照《信访工作条例》第三十二条、第三十五条作出"):
        assert part in text, part
    assert "予以支持" not in text.replace("不予支持", "")


def test_a_reports_and_a_suggestions_reply_states_no_opinion(db, services, file_case, act):
    """信访工作条例 第三十一条: the 信访处理意见书 (and so 第三十二条's opinion) is for a complaint's request;
    a report is answered under the rules on administrative penalties (办法 第三十一条), a suggestion is
    answered."""
    report = file_case(type="report", category="illegal_fees")
    act(report.case_id, "accept")
    assert act(report.case_id, "reply", public_text="经调查，举报情况属实，已责令协会退还费用。",
               finding="substantiated") is S.closed
    with db.session_scope(write=False) as s:
        assert s.get(Case, report.case_id).opinion is None


def test_handling_opinion_without_an_upper_level_says_the_platform_assigns_it(db, services, file_case, act):
    """信访工作条例 第三十五条: with no level above configured, the document still says where to go."""
    case_id, _ = routed(db, file_case)
    with db.session_scope() as s:
        s.get(Case, case_id).unit.supervising_unit_id = None
    act(case_id, "accept")
    act(case_id, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY, finding="partly_substantiated")
    text = last(db, services, case_id, Document.handling_opinion)
    assert "本平台将指定" in text and "部分属实" in text


def _reviewed(db, services, file_case, act):
    case_id, number = routed(db, file_case)
    act(case_id, "accept")
    act(case_id, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY, finding="not_substantiated")
    act(case_id, "request_review", public_text="我不同意处理意见。")
    with db.session_scope(write=False) as s:
        case = s.get(Case, case_id)
        assert case.state is S.under_review and case.unit is not None
    act(case_id, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复查，原处理意见认定事实清楚，予以维持。")
    return case_id, number


def test_review_opinion_says_where_and_by_when_to_ask_for_re_review(db, services, file_case, act):
    """复查意见书: 信访工作条例 第三十六条 (复核 within 30 days of receipt, asked of the level above the reviewing body)."""
    case_id, number = _reviewed(db, services, file_case, act)
    with db.session_scope(write=False) as s:
        upper = s.get(Case, case_id).unit.supervising_unit
        body = upper.name if upper is not None else "本平台将指定"
    text = last(db, services, case_id, Document.review_opinion)
    for part in ("复查意见书", number, "原处理意见认定事实清楚", "第三十五条", "第三十六条", "收到本意见书之日起30日内",
                 body, "请求复核"):
        assert part in text, part


def test_re_review_opinion_is_final(db, services, file_case, act):
    """复核意见书: 信访工作条例 第三十六条 (final: the same facts and reasons are not accepted again)."""
    case_id, number = _reviewed(db, services, file_case, act)
    with db.session_scope() as s:  # a level above the reviewing body, where the registry has none
        reviewing = s.get(Case, case_id).unit
        if reviewing.supervising_unit_id is None:
            reviewing.supervising_unit_id = s.scalar(select(Unit.id).where(Unit.code == "mca"))
    act(case_id, "request_review", public_text="我仍然不同意。")
    with db.session_scope(write=False) as s:
        assert s.get(Case, case_id).state is S.under_re_review
    act(case_id, "decide_review", opinion="supported", legal_basis=BASIS, public_text="经复核，维持复查意见。")
    text = last(db, services, case_id, Document.re_review_opinion)
    for part in ("复核意见书", number, "经复核，维持复查意见。", "最终意见", "同一事实和理由", "不再受理", "第三十六条"):
        assert part in text, part


def test_an_edited_template_is_used_and_one_dropping_a_required_part_is_refused(db, services, file_case, act,
                                                                                 make_staff):
    """信访工作条例 第三十五条: a 处理意见书 must state the review body and the deadline."""
    title, body = TEMPLATES[Document.handling_opinion]["zh_CN"]
    checked, errors = check_text(Document.handling_opinion, title, body.replace("$review_body", "上级机关"))
    assert checked is None and "$review_body" in errors["body"][0].params["missing"]
    _, errors = check_text(Document.handling_opinion, title, body + "$secret")
    assert "$secret" in errors["body"][0].params["unknown"]
    admin = make_staff("mca", __import__("casework.accounts.models", fromlist=["Role"]).Role.administrator)
    edited = body.replace("现将处理意见书面答复如下。", "现将处理意见书面答复如下（试行文本）。")
    checked, errors = check_text(Document.handling_opinion, "信访事项处理意见书", edited)
    assert not errors
    with db.session_scope() as s:
        save_template(s, admin, Document.handling_opinion, "zh_CN", *checked)
    case_id, _ = routed(db, file_case)
    act(case_id, "accept")
    act(case_id, "reply", opinion="supported", legal_basis=BASIS, public_text=REPLY, finding="substantiated")
    text = last(db, services, case_id, Document.handling_opinion)
    assert "信访事项处理意见书" in text and "试行文本" in text
    with db.session_scope() as s:
        assert reset_template(s, admin, Document.handling_opinion, "zh_CN") is not None


def test_a_report_names_no_reporter(db, services, file_case, act):
    """信访工作条例 第二十三条, and the reporter's identity stays with its custodian: the addressee is 举报人."""
    case_id, _ = routed(db, file_case, type="report", category="illegal_fees")
    act(case_id, "accept")
    text = last(db, services, case_id, Document.acceptance)
    assert "举报人：" in text and "张三" not in text
    assert "匿名" not in text  # a named reporter is not called anonymous (every report's notice was)
    anonymous, _ = routed(db, file_case, type="report", category="illegal_fees", anonymous=True, complainant=None)
    act(anonymous, "accept")
    assert "匿名举报人：" in last(db, services, anonymous, Document.acceptance)


def test_the_complainants_language(db, services, file_case, act):
    """A case filed in English gets the English text (the Chinese one is the default)."""
    case_id, number = routed(db, file_case)
    with db.session_scope() as s:  # as filed from the English pages
        s.execute(update(Case).where(Case.id == case_id).values(locale="en"))
    act(case_id, "accept")
    text = last(db, services, case_id, Document.acceptance)
    assert "Notice of acceptance" in text and number in text and "article 23" in text


def test_a_move_without_a_document_makes_none(db, services, file_case, act):
    case_id, _ = routed(db, file_case)
    assert documents(db, services, case_id) == []
    act(case_id, "note", internal_text="内部备注")
    assert documents(db, services, case_id) == []


def test_retention_erases_the_documents(db, services, file_case, act):
    """The documents name the complainant: erased with the case's personal data."""
    from casework.retention.operations import _erase_case

    case_id, _ = routed(db, file_case)
    act(case_id, "accept")
    keys: list[str] = []
    with db.session_scope() as s:
        case = s.get(Case, case_id)
        files, _outbox = _erase_case(s, services, case, services.clock(), keys)
        assert files == 1 and len(keys) == 1
    for key in keys:
        services.files.delete(key)
    assert documents(db, services, case_id) == []
    with db.session_scope(write=False) as s:
        doc = s.scalar(select(CaseDocument).where(CaseDocument.case_id == case_id))
        assert doc.storage_key is None and doc.erased_at is not None


def test_an_english_notice_sets_quotes_and_apostrophes_as_english_text_does():
    """The notices are set in the CJK font, whose quotes and apostrophes are full-width: an
    English notice read 'case “Forced to join…”  (number' and 'it’ s'. It takes their proportional
    forms; a Chinese notice keeps the full-width ones. And its seal line reads 'Unit (seal)'."""
    from weasyprint import HTML

    from casework.documents.render import document_html

    vals = {"case_number": "TS20261206701272", "unit": "Ministry of Industry and Information Technology",
            "date": "2026-12-06"}

    def laid_out(locale):
        page = HTML(string=document_html("Notice", "“Fees” it’s", vals, locale)).render().pages[0]
        return {b.text: b.width for b in page._page_box.descendants() if type(b).__name__ == "TextBox"}

    english, chinese = laid_out("en"), laid_out("zh_CN")
    assert english["“Fees” it’s"] < 0.8 * chinese["“Fees” it’s"]
    assert "Ministry of Industry and Information Technology (seal)" in english


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_seal_and_date_never_stand_alone_on_the_last_page(locale):
    """A unit's seal (盖章) and date must share their page with the text they sign: a notice
    whose text filled its first page printed them alone on a second, a page that could be
    detached from the opinion (the practice GB/T 9704-2012 7.3.5 sets for 发文机关署名、成文日期
    和印章: the space left is adjusted, never a page without text). Requests of every length
    between one page and two are tried: the seal and date always come with the last section."""
    from casework.documents.render import document_pdf

    title, body = TEMPLATES[Document.handling_opinion][locale]
    vals = {"case_number": "TS20261207312913", "complainant": "张三", "title": "协会强制收取会费",
            "submitted_date": "2026-12-07", "date": "2026-12-07", "unit": "工业和信息化部",
            "finding": "经调查，反映的情况属实。", "opinion": "予以支持。\n经核查，协会已退还违规收取的会费。",
            "legal_basis": "《国务院办公厅关于进一步规范行业协会商会收费的通知》（国办发〔2020〕21号）\n"
                           "本意见书依照《信访工作条例》第三十二条、第三十五条作出。",
            "review_deadline": "自收到本意见书之日起30日内", "review_body": "中央社会工作部"}
    seal = ("工业和信息化部（盖章）" if locale == "zh_CN" else "工业和信息化部 (seal)", "2026-12-07", "2 / 2")
    pages_seen = set()
    for extra in range(100, 330, 18):  # half a line each step, from one page to well into two
        pdf = document_pdf(title, body, dict(vals, request="协会要求缴纳会费。" + "会" * extra), locale)
        pages = PdfReader(io.BytesIO(pdf)).pages
        pages_seen.add(len(pages))
        last_page = [line.strip() for line in pages[-1].extract_text().splitlines() if line.strip()]
        assert seal[0] in last_page, last_page
        assert [line for line in last_page if line not in seal], f"{extra}: the seal alone on page {len(pages)}"
    assert pages_seen == {1, 2}  # the lengths tried do cross the page


def test_the_desks_reason_for_another_procedure_reads_as_its_notice_says():
    """信访工作条例 第三十一条: a matter that is, or should be, decided by a court, arbitration or
    administrative review goes there. The desk's choice read "已进入诉讼、仲裁或行政复议程序", so a
    handler whose matter belongs in court but is not there yet would not choose it, while the
    不予受理告知书 says "已经或者应当通过…法定途径解决"."""
    from babel.support import Translations

    from casework.documents.texts import NOT_ACCEPT
    from casework.workflow.reasons import NotAcceptReason

    zh = Translations.load("web/translations", ["zh_Hans_CN"])
    label = zh.gettext(NotAcceptReason.other_procedure.title)
    assert label == "已经或者应当通过诉讼、仲裁、行政复议等法定途径解决"
    assert NOT_ACCEPT["zh_CN"]["other_procedure"][0] == f"该事项{label}。"
