"""The 调解协议书 PDF (Chinese text extracted back, fonts embedded), the respondent's lookup
by its own code, and a failed mediation turned into a complaint once."""
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from casework.accounts.actor import Actor
from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, CaseType, EventKind
from casework.cases.queries import case_for_lookup
from casework.mediation.document import amount_in_figures, amount_in_words, numbered_lines, split_terms
from casework.mediation.operations import (
    agreement_bytes, respondent_lookup, store_agreement, turn_into_complaint,
)
from casework.workflow.machine import InvalidMove, MoveNotAllowed, perform
from tests.casework.test_mediation import hold_session

pytestmark = pytest.mark.usefixtures("cjk_pdf")

FACTS = "申请人向被申请人供应汽车零部件，被申请人尚欠货款三十万元未付。"
TERMS = "一、被申请人于2026年12月31日前向申请人支付货款三十万元。\n二、申请人放弃其他请求。"
# the 调解协议书's content (人民调解法 第二十九条)
AGREEMENT = dict(
    applicant_id="110101199001011237", applicant_address="北京市东城区示例路1号", applicant_agent="",
    respondent_id="91110000100000000R", respondent_address="上海市浦东新区示例大道8号",
    respondent_agent="法定代表人 李四", issues="被申请人应否支付所欠货款及支付期限。",
    liability="被申请人未按合同约定付款，应承担付款责任。", terms=TERMS,
    performance_method="银行转账至申请人账户。", performance_due="2099-12-31")


def act(db, services, actor, case_id, move, **fields):
    with db.session_scope() as s:
        ev = perform(s, services, actor, s.get(Case, case_id), move, **fields)
        return getattr(ev, "respondent_code", None)


def mediating(db, services, make_staff, case_id):
    coordinator = make_staff("caam-mediation", Role.unit_lead)
    code = act(db, services, coordinator, case_id, "accept_mediation")
    act(db, services, Actor.respondent(case_id), case_id, "respondent_consent")
    hold_session(db, services, coordinator, case_id)  # an agreement follows a held session
    return coordinator, code


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def embedded_fonts(data: bytes) -> list[tuple[str, list[str]]]:
    """(base font name, its /FontFile* entries) for every font of every page."""
    out = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptors = [d.get_object()["/FontDescriptor"].get_object() for d in font.get("/DescendantFonts", [])]
            if "/FontDescriptor" in font:
                descriptors.append(font["/FontDescriptor"].get_object())
            files = [k for d in descriptors for k in d.keys() if k.startswith("/FontFile")]
            out.append((str(font["/BaseFont"]), files))
    return out


def test_the_agreement_pdf_carries_what_article_29_lists(db, services, make_staff, mediation):
    """人民调解法 第二十九条: the parties' particulars, the main facts, the matters in dispute and
    each party's responsibility, the agreed content and how and by when it is performed; it takes
    effect when the parties sign, seal or fingerprint it and the mediator signs and the body seals
    it. A body that is not a 人民调解委员会 cites 民事诉讼法 第二百零五条 for 司法确认."""
    coordinator, _ = mediating(db, services, make_staff, mediation.case_id)
    act(db, services, coordinator, mediation.case_id, "record_agreement", facts=FACTS, **AGREEMENT)
    with db.session_scope() as s:
        case = s.get(Case, mediation.case_id)
        key = store_agreement(s, services, case)
        assert store_agreement(s, services, case) == key  # made once
    with db.session_scope(write=False) as s:
        case = s.get(Case, mediation.case_id)
        assert case.mediation.agreement_key == key
        data = agreement_bytes(services, case.mediation)
    assert data.startswith(b"%PDF-")
    assert b"%PDF" not in services.files._path(key, "orig").read_bytes()  # encrypted at rest
    text = pdf_text(data)
    for expected in ("调解协议书", case.number, "申请人", "张三", "被申请人", "某某零部件有限公司",
                     "纠纷主要事实", FACTS, "调解请求", "请求对方支付货款三十万元。", "300,000.00", "叁拾万元整",
                     "经调解，双方自愿达成如下协议",
                     "一、被申请人于2026年12月31日前向申请人支付货款三十万元。", "二、申请人放弃其他请求。",
                     "履行方式和期限", "银行转账至申请人账户。", "履行期限：2099年12月31日前履行完毕。",
                     "110101199001011237", "北京市东城区示例路1号", "91110000100000000R", "上海市浦东新区示例大道8号",
                     "法定代表人 李四", "争议事项", "被申请人应否支付所欠货款及支付期限。", "各方当事人的责任",
                     "被申请人未按合同约定付款，应承担付款责任。",
                     "本协议自各方当事人签名、盖章或者按指印，调解员签名并加盖调解组织印章之日起生效",
                     "民事诉讼法》第二百零五条", "三十日内", "司法确认",
                     "申请人（签名、盖章或按指印）", "被申请人（签名、盖章或按指印）", "调解员（签名）",
                     "中国汽车工业协会调解中心（示例）"):
        assert expected in text.replace("\n", ""), expected
    assert "人民调解法" not in text
    fonts = embedded_fonts(data)
    assert fonts and all(files for _name, files in fonts), fonts  # every font embedded
    assert any("NotoSansCJK" in name.replace("-", "") for name, _files in fonts), fonts


def test_the_signatures_share_their_page_with_the_agreements_text():
    """人民调解法 第二十九条: the agreement takes effect when the parties sign and the body seals it,
    so the page they sign must carry the agreement's text: a minimal agreement printed its
    signatures and seal alone on page 2, a page that could be put to other terms. Facts of every
    length from two pages to three are tried; the signatures always come with the closing lines."""
    from types import SimpleNamespace

    from casework.mediation.document import agreement_pdf

    signing = ("申请人（签名", "被申请人（签名", "调解员", "年\u3000\u3000月\u3000\u3000日", "某调解中心（盖章）")
    case = SimpleNamespace(number="TJ20261130997319", association=None, category=None)
    pages_seen = set()
    for extra in range(0, 1000, 90):
        mediation = SimpleNamespace(
            terms=TERMS, performance_method="银行转账。", performance_due=None, amount=Decimal("300000"),
            respondent_kind=None, facts=FACTS + "货" * extra, claim="支付货款。", issues="应否支付。",
            liability="应承担付款责任。")
        pdf = agreement_pdf(case, mediation, applicant_name="张三", respondent_name="某公司",
                            body_name="某调解中心", mediator_name="王五")
        pages = PdfReader(io.BytesIO(pdf)).pages
        pages_seen.add(len(pages))
        lines = [line.strip() for line in pages[-1].extract_text().splitlines() if line.strip()]
        assert "某调解中心（盖章）" in lines, lines
        folio = f"第 {len(pages)} 页 共 {len(pages)} 页"
        text = [line for line in lines if not line.startswith(signing) and line != folio]
        assert text, f"{extra}: signatures alone on page {len(pages)}"
    assert pages_seen == {2, 3}


def test_no_document_without_an_agreement(db, services, make_staff, mediation):
    mediating(db, services, make_staff, mediation.case_id)
    with db.session_scope() as s, pytest.raises(MoveNotAllowed):
        store_agreement(s, services, s.get(Case, mediation.case_id))


def test_terms_are_numbered_and_amounts_written_out():
    assert numbered_lines("1. 付款\n\n(2) 撤诉\n第三条 保密") == ["一、付款", "二、撤诉", "三、保密"]
    terms, performance = split_terms("付款三十万元\n履行期限：2026年12月31日前")
    assert terms == ["一、付款三十万元"] and performance == ["履行期限：2026年12月31日前"]
    assert amount_in_words(Decimal("300000")) == "叁拾万元整"
    assert amount_in_words(Decimal("1005.50")) == "壹仟零伍元伍角"
    assert amount_in_words(Decimal("100000001")) == "壹亿零壹元整"
    assert amount_in_words(Decimal("0.05")) == "伍分"
    # in figures with its fen, as every page writes it (web.presenters.money)
    assert amount_in_figures(Decimal("12000.5")) == "12,000.50"
    assert amount_in_figures(Decimal("300000")) == "300,000.00" and amount_in_figures(None) is None


def test_the_respondent_code_opens_only_its_case(db, services, make_staff, mediation, file_case):
    _, code = mediating(db, services, make_staff, mediation.case_id)
    pepper = services.settings.query_pepper
    other = file_case()
    with db.session_scope(write=False) as s:
        found = respondent_lookup(s, pepper, mediation.case_number.lower(), code.replace("-", " "))
        assert found is not None and found.id == mediation.case_id
        assert respondent_lookup(s, pepper, mediation.case_number, mediation.query_code) is None  # the applicant's
        assert respondent_lookup(s, pepper, mediation.case_number, "0000-0000-0000-0000") is None
        assert respondent_lookup(s, pepper, other.case_number, code) is None
        assert respondent_lookup(s, pepper, "TJ2099010100001", code) is None
        assert respondent_lookup(s, pepper, other.case_number, other.query_code) is None  # a case without one
        assert case_for_lookup(s, pepper, mediation.case_number, code) is None  # and not the status page's


def test_a_failed_mediation_becomes_a_complaint_once(db, services, make_staff, mediation):
    coordinator, _ = mediating(db, services, make_staff, mediation.case_id)
    with db.session_scope() as s, pytest.raises(MoveNotAllowed):  # still mediating
        turn_into_complaint(s, services, s.get(Case, mediation.case_id), "forced_membership")
    act(db, services, coordinator, mediation.case_id, "record_no_agreement",
        public_text="双方分歧较大，建议通过仲裁或诉讼解决。")
    with db.session_scope() as s, pytest.raises(InvalidMove) as exc:  # a mediation category is not a grievance
        turn_into_complaint(s, services, s.get(Case, mediation.case_id), "member_contract")
    assert "category" in exc.value.errors
    with db.session_scope() as s:
        receipt = turn_into_complaint(s, services, s.get(Case, mediation.case_id), "forced_membership")
    assert receipt.case_number.startswith("TS") and receipt.query_code
    with db.session_scope() as s, pytest.raises(MoveNotAllowed):  # only once
        turn_into_complaint(s, services, s.get(Case, mediation.case_id), "forced_membership")
    with db.session_scope(write=False) as s:
        original = s.get(Case, mediation.case_id)
        new = s.get(Case, receipt.case_id)
        assert original.mediation.followup_case_id == new.id and original.state is S.mediation_failed
        link = [ev for ev in original.events if ev.kind is EventKind.linked]
        assert len(link) == 1 and link[0].is_public and receipt.case_number in link[0].public_text
        assert link[0].data == {"followup": receipt.case_number}
        assert new.type is CaseType.complaint and new.category.code == "forced_membership"
        assert new.title.startswith("调解不成转投诉：") and len(new.title) <= 100
        assert "请求对方支付货款三十万元。" in new.description
        assert new.association_id == original.association_id
        assert services.cipher.decrypt_text(new.complainant_name_enc, "case.complainant.name") == "张三"
        assert services.cipher.decrypt_text(new.complainant_phone_enc, "case.complainant.phone") == "13800138000"
        assert new.state is S.pending_acceptance and new.unit is not None  # routed like any complaint
        assert new.unit.code != "caam-mediation"
        assert case_for_lookup(s, services.settings.query_pepper, receipt.case_number, receipt.query_code) is not None


def test_a_peoples_mediation_committee_cites_article_33(db, services, make_staff, mediation):
    """人民调解法 第三十三条 is cited only where the body is a 人民调解委员会 (a unit setting)."""
    from casework.mediation.document import agreement_html

    coordinator, _ = mediating(db, services, make_staff, mediation.case_id)
    act(db, services, coordinator, mediation.case_id, "record_agreement", facts=FACTS, **AGREEMENT)
    with db.session_scope(write=False) as s:
        case = s.get(Case, mediation.case_id)
        html = agreement_html(case, case.mediation, applicant_name="张三", respondent_name="某某公司",
                              body_name="某市汽车行业人民调解委员会", mediator_name=None, people_mediation=True)
    assert "《中华人民共和国人民调解法》第三十三条" in html and "民事诉讼法" not in html
    assert "加盖人民调解委员会印章之日起生效" in html
