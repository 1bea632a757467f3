"""Association registry: pinyin search, CSV import, the rules, demo data. No Flask; a fresh database per test."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

import casework.models as m
from casework.db import Database
from casework.registry import demo
from casework.registry.importer import REQUIRED_COLUMNS, import_associations
from casework.i18n import Message
from casework.registry.lookup import index_terms, pinyin_initials, search_associations
from casework.registry.validation import (
    KEPT_WHEN_ABSENT, UNIT_FIELDS, check_association, field_messages, units_by_code,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HEADER = ",".join(REQUIRED_COLUMNS)
REAL_CODE = "51100000500009247D"


def code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


def row(**cells) -> str:
    base = {
        "credit_code": code("51510000MJ9900301"), "name": "四川省测试行业协会", "abbreviation": "",
        "level": "provincial", "region_code": "510000", "status": "active", "decoupled": "true",
        "registration_authority": "sc-civil-affairs", "main_industry_department": "sc-economy-it",
        "other_industry_departments": "", "supervisory_unit": "", "mediation_body": "",
        "party_work_department": "", "is_sample": "true",
    }
    base.update(cells)
    return ",".join(base[c] for c in REQUIRED_COLUMNS)


def csv_text(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


@pytest.fixture
def regdb(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    m.Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def demo_db(regdb):
    with regdb.session_scope() as s:
        demo.load_demo(s)
    return regdb


def count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def names(result) -> list[str]:
    return [a.name for a in result]


# --- pinyin ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("中国钢铁工业协会", "zggtgyxh"),
    ("中钢协", "zgx"),
    ("中国银行业协会", "zgyhyxh"),       # 行 read as hang in 银行业
    ("重庆市ABC 协会-12", "cqsabcxh12"),  # letters and digits kept, lower-cased
    ("ＡＢ中国", "abzg"),                  # full-width folded
    ("《》、，。 !@#", ""),
    ("", ""),
])
def test_pinyin_initials(text, expected):
    assert pinyin_initials(text) == expected


def test_index_terms_joins_name_and_abbreviation():
    a = m.Association(name="中国钢铁工业协会", abbreviation="中钢协")
    assert index_terms(a) == "zggtgyxh zgx" == a.pinyin_initials
    b = m.Association(name="中国钢铁工业协会", abbreviation=None)
    assert index_terms(b) == "zggtgyxh"


# --- search ------------------------------------------------------------------------------

def test_search_by_name_fragment(demo_db):
    with demo_db.session_scope() as s:
        assert names(search_associations(s, "钢铁")) == ["中国钢铁工业协会"]
        found = names(search_associations(s, "物流"))
        assert set(found) == {"中国物流与采购联合会", "深圳市物流与供应链管理协会"}


def test_search_by_abbreviation(demo_db):
    with demo_db.session_scope() as s:
        assert names(search_associations(s, "中汽协")) == ["中国汽车工业协会"]
        assert names(search_associations(s, "复材")) == ["中国复合材料工业协会"]


def test_search_by_pinyin_initials(demo_db):
    with demo_db.session_scope() as s:
        assert names(search_associations(s, "zggt")) == ["中国钢铁工业协会"]
        assert names(search_associations(s, "ZGGT")) == ["中国钢铁工业协会"]  # case-insensitive
        assert names(search_associations(s, "zqx")) == ["中国汽车工业协会"]  # abbreviation's initials
        assert "中国汽车工业协会" in names(search_associations(s, "qcgy"))  # contains


def test_search_by_credit_code_prefix(demo_db):
    with demo_db.session_scope() as s:
        assert names(search_associations(s, "5110000050000924")) == ["中国复合材料工业协会"]
        assert names(search_associations(s, REAL_CODE.lower())) == ["中国复合材料工业协会"]
        national = search_associations(s, "511000005")
        assert len(national) == 4 and all(a.level is m.AssociationLevel.national for a in national)


def test_search_blank_and_limit(demo_db):
    with demo_db.session_scope() as s:
        assert search_associations(s, "") == []
        assert search_associations(s, "   \t") == []
        assert len(search_associations(s, "协会", limit=2)) == 2


def test_search_escapes_like_wildcards(demo_db):
    with demo_db.session_scope() as s:
        assert search_associations(s, "%") == []
        assert search_associations(s, "_") == []
        assert search_associations(s, "中国%协会") == []
        assert search_associations(s, "z_gt") == []
        assert search_associations(s, "\\") == []
        # a literal % in a name is found
        unit = s.scalar(select(m.Unit).where(m.Unit.code == "mca"))
        odd = m.Association(
            credit_code=code("51100000500099901"), name="百分百%协会", level=m.AssociationLevel.national,
            region_code="100000", registration_authority=unit,
            main_industry_department=s.scalar(select(m.Unit).where(m.Unit.code == "miit")),
            is_sample=True,
        )
        index_terms(odd)
        s.add(odd)
        s.flush()
        assert names(search_associations(s, "%")) == ["百分百%协会"]
        assert names(search_associations(s, "百%")) == ["百分百%协会"]


def test_search_ranking(demo_db):
    with demo_db.session_scope() as s:
        mca = s.scalar(select(m.Unit).where(m.Unit.code == "mca"))
        miit = s.scalar(select(m.Unit).where(m.Unit.code == "miit"))

        def add(n: int, name: str, status=m.AssociationStatus.active):
            a = m.Association(credit_code=code(f"51100000500099{n:03d}"), name=name,
                              level=m.AssociationLevel.national, region_code="100000",
                              registration_authority=mca, main_industry_department=miit,
                              status=status, is_sample=True)
            index_terms(a)
            s.add(a)

        add(801, "全国测试协会分会")                                        # contains
        add(802, "测试协会")                                                 # exact
        add(803, "测试协会联合会", m.AssociationStatus.deregistered)        # prefix, deregistered
        add(804, "测试协会总会")                                             # prefix, active
        s.flush()
        assert names(search_associations(s, "测试协会", include_deregistered=True)) == [
            "测试协会", "测试协会总会", "测试协会联合会", "全国测试协会分会",
        ]
        # a deregistered association is not offered to someone filing a case
        assert names(search_associations(s, "测试协会")) == ["测试协会", "测试协会总会", "全国测试协会分会"]


def test_search_on_sqlite_finds_what_ilike_finds(demo_db, monkeypatch):
    """SQLite's plain LIKE (the lookup's shortcut there) finds and ranks what lower() LIKE
    lower(), SQLAlchemy's ILIKE on SQLite, finds: ASCII in any case, other letters as typed."""
    from casework.registry import lookup

    with demo_db.session_scope() as s:
        mca = s.scalar(select(m.Unit).where(m.Unit.code == "mca"))
        miit = s.scalar(select(m.Unit).where(m.Unit.code == "miit"))
        for n, (name, name_en, abbr) in enumerate([
                ("测试ABC协会", "China ABC Testing Association", "ABC协"),
                ("Ärzte协会", "Ärzte Association", "ÄRZ"), ("ärzte学会", None, None),
                ("全角ＡＢＣ协会", "Full-width ＡＢＣ", None), ("下划线_协会", "Under_score", "U_S")]):
            a = m.Association(credit_code=code(f"51100000500099{900 + n:03d}"), name=name, name_en=name_en,
                              abbreviation=abbr, level=m.AssociationLevel.national, region_code="100000",
                              registration_authority=mca, main_industry_department=miit, is_sample=True)
            index_terms(a)
            s.add(a)
        s.flush()
        queries = ["abc", "ABC", "Abc 协会", "china", "CHINA abc", "ärzte", "Ärzte", "ÄRZ", "ärz", "ａｂｃ",
                   "ＡＢＣ", "under_", "u_s", "中国", "zg", "ZG", "5110", "51100000500009247d", "协会", "xh", "%"]
        shortcut = {q: [a.id for a in search_associations(s, q, limit=50)] for q in queries}
        monkeypatch.setattr(lookup, "_ilike", lambda column, pattern, sqlite: column.ilike(pattern, escape="\\"))
        monkeypatch.setattr(lookup, "_STATEMENTS", {})
        assert {q: [a.id for a in search_associations(s, q, limit=50)] for q in queries} == shortcut
        assert shortcut["abc"] and shortcut["ärzte"] and shortcut["under_"]


# --- demo --------------------------------------------------------------------------------

def test_demo_is_idempotent(regdb):
    counts = []
    for _ in range(2):
        with regdb.session_scope() as s:
            demo.load_demo(s)
        with regdb.session_scope() as s:
            counts.append({model.__name__: count(s, model) for model in (m.Unit, m.Association, m.Category)})
    assert counts[0] == counts[1]
    # the demo's units and the platform's triage unit (standard data, casework.registry.defaults)
    assert counts[0] == {"Unit": len(demo.DEMO_UNITS) + 1, "Association": len(demo.DEMO_ASSOCIATIONS),
                         "Category": len(demo.CATEGORIES)}
    with regdb.session_scope() as s:
        assert demo.seed_categories(s) == 0


def test_demo_codes_and_relations(demo_db):
    with demo_db.session_scope() as s:
        assocs = list(s.scalars(select(m.Association)))
        assert all(uscc.is_valid(a.credit_code) for a in assocs)
        by_code = {a.credit_code: a for a in assocs}
        ccia = by_code[REAL_CODE]
        assert ccia.name == "中国复合材料工业协会" and ccia.is_sample is False
        assert all(a.is_sample for a in assocs if a.credit_code != REAL_CODE)
        assert all(a.pinyin_initials for a in assocs)

        caam = s.scalar(select(m.Association).where(m.Association.name == "中国汽车工业协会"))
        assert caam.mediation_body.code == "caam-mediation"
        assert caam.mediation_body.association_id == caam.id
        assert caam.registration_authority.code == "mca" and caam.decoupled

        cd = s.scalar(select(m.Association).where(m.Association.name == "成都市餐饮同业公会"))
        assert not cd.decoupled and cd.supervisory_unit.kind is m.UnitKind.supervisory_unit

        triage = s.scalar(select(m.Unit).where(m.Unit.code == demo.TRIAGE_UNIT_CODE))
        assert triage.kind is m.UnitKind.triage and triage.region_code == "100000"
        joint = s.scalar(select(m.Unit).where(m.Unit.code == demo.JOINT_MEDIATION_UNIT_CODE))
        assert joint.kind is m.UnitKind.mediation_body and joint.association_id is None

        groups = {c.code: c.group for c in s.scalars(select(m.Category))}
        assert groups["illegal_fees"] is m.CategoryGroup.grievance
        assert groups["consumer"] is m.CategoryGroup.mediation
        assert groups["policy"] is m.CategoryGroup.suggestion


# --- import ------------------------------------------------------------------------------

def test_good_csv_imports_then_updates(demo_db):
    path = FIXTURES / "associations_good.csv"
    seen: list[int] = []
    with demo_db.session_scope() as s:
        before = count(s, m.Association)
        with path.open(encoding="utf-8", newline="") as f:
            result = import_associations(s, f, progress=seen.append)
        assert result.errors == [] and result.ok
        assert (result.created, result.updated) == (5, 0)
        assert seen[-1] == 5
    with demo_db.session_scope() as s:
        assert count(s, m.Association) == before + 5
        with path.open(encoding="utf-8", newline="") as f:
            result = import_associations(s, f)
        assert (result.created, result.updated, result.errors) == (0, 5, [])
    with demo_db.session_scope() as s:
        assert count(s, m.Association) == before + 5
        a = s.scalar(select(m.Association).where(m.Association.name == "中国示例机械工业协会, 测试"))
        assert a.status is m.AssociationStatus.deregistered
        assert sorted(u.code for u in a.other_industry_departments) == ["mofcom", "ndrc"]
        assert a.party_work_department.code == "swd-central"
        gd = s.scalar(select(m.Association).where(m.Association.name == "广东省跨境电子商务协会（示例）"))
        assert gd.level is m.AssociationLevel.provincial and gd.decoupled
        hot = s.scalar(select(m.Association).where(m.Association.name == "成都市火锅协会（示例）"))
        assert not hot.decoupled and hot.supervisory_unit.code == "cd-commerce-supervisor"
        assert names(search_associations(s, "cjx")) == ["四川省白酒产业协会（示例）"]


def test_bad_csv_reports_every_error_and_writes_nothing(demo_db):
    with demo_db.session_scope() as s:
        before = count(s, m.Association)
        with (FIXTURES / "associations_bad.csv").open(encoding="utf-8", newline="") as f:
            result = import_associations(s, f)
        assert (result.created, result.updated) == (0, 0)
        found = {(e.line, e.field) for e in result.errors}
        assert found == {(3, "credit_code"), (5, "main_industry_department")}
        by_line = {e.line: e.reason for e in result.errors}
        assert by_line[3] == "invalid unified social credit code (check digit)"
        assert "unknown unit code 'no-such-unit'" in by_line[5]
    with demo_db.session_scope() as s:
        assert count(s, m.Association) == before


def test_decoupled_with_supervisory_unit_is_rejected(demo_db):
    text = csv_text(row(decoupled="是", supervisory_unit="cd-commerce-supervisor"))
    with demo_db.session_scope() as s:
        before = count(s, m.Association)
        result = import_associations(s, io.StringIO(text))
        assert [(e.line, e.field) for e in result.errors] == [(2, "supervisory_unit")]
        assert "decoupled" in result.errors[0].reason
        assert count(s, m.Association) == before


def test_bom_prefixed_file(demo_db, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(row(), row(credit_code=code("51510000MJ9900302"),
                                                        name="四川省另一协会")).encode("utf-8"))
    with demo_db.session_scope() as s:
        with path.open("rb") as f:  # binary file
            result = import_associations(s, f)
        assert (result.created, result.errors) == (2, [])
    with demo_db.session_scope() as s:
        with path.open(encoding="utf-8", newline="") as f:  # text file, BOM left in
            result = import_associations(s, f)
        assert (result.updated, result.errors) == (2, [])
        result = import_associations(s, path.read_bytes())  # whole content as bytes
        assert (result.updated, result.errors) == (2, [])


@pytest.mark.parametrize("cells, field, reason_part", [
    ({"credit_code": "5151"}, "credit_code", "18 characters"),
    ({"credit_code": "ABCDEFGH" + "1" * 10}, "credit_code", "format"),
    ({"region_code": "51000"}, "region_code", "6 digits"),
    ({"region_code": "990000"}, "region_code", "province"),
    ({"region_code": "510100"}, "region_code", "provincial"),
    ({"region_code": "100000"}, "region_code", "national"),
    ({"name": "会"}, "name", "2-200"),
    ({"name": "会" * 201}, "name", "2-200"),
    ({"level": "district"}, "level", "unknown level"),
    ({"status": "suspended"}, "status", "unknown status"),
    ({"decoupled": "maybe"}, "decoupled", "yes/no"),
    ({"decoupled": ""}, "decoupled", "required"),
    ({"registration_authority": "sc-economy-it"}, "registration_authority", "not a registration_authority"),
    ({"main_industry_department": ""}, "main_industry_department", "required"),
    ({"other_industry_departments": "gd-commerce;mca"}, "other_industry_departments", "'mca'"),
    ({"mediation_body": "caam-mediation"}, "mediation_body", "another association"),
    ({"party_work_department": "miit"}, "party_work_department", "not a party_work_department"),
])
def test_row_validation(demo_db, cells, field, reason_part):
    with demo_db.session_scope() as s:
        result = import_associations(s, csv_text(row(**cells)))
        assert [(e.line, e.field) for e in result.errors] == [(2, field)], result.errors
        assert reason_part in result.errors[0].reason
        assert result.created == 0


def test_chinese_values_and_county_level(demo_db):
    text = csv_text(row(level="县", region_code="510104", status="正常", decoupled="否",
                        supervisory_unit="cd-commerce-supervisor", is_sample="1",
                        registration_authority="cd-civil-affairs", main_industry_department="cd-commerce"))
    with demo_db.session_scope() as s:
        result = import_associations(s, text)
        assert result.errors == [] and result.created == 1
        a = s.scalar(select(m.Association).where(m.Association.name == "四川省测试行业协会"))
        assert a.level is m.AssociationLevel.county and a.decoupled is False


def test_duplicate_code_in_file(demo_db):
    with demo_db.session_scope() as s:
        result = import_associations(s, csv_text(row(), row(name="另一个协会")))
        assert [(e.line, e.field) for e in result.errors] == [(3, "credit_code")]
        assert "line 2" in result.errors[0].reason
        assert count(s, m.Association) == len(demo.DEMO_ASSOCIATIONS)


def test_header_problems(demo_db):
    with demo_db.session_scope() as s:
        assert [e.line for e in import_associations(s, "").errors] == [1]
        bad_header = HEADER.replace("credit_code", "code")
        errors = import_associations(s, bad_header + "\n" + row() + "\n").errors
        assert {(e.line, e.field) for e in errors} == {(1, "code"), (1, "credit_code")}
        # columns in another order are fine; blank lines are skipped but counted
        cols = list(reversed(REQUIRED_COLUMNS))
        values = dict(zip(REQUIRED_COLUMNS, row().split(",")))
        text = ",".join(cols) + "\n\n" + ",".join(values[c] for c in cols) + "\n"
        assert import_associations(s, text).created == 1
        broken = ",".join(cols) + "\n\n" + ",".join("x" if c == "level" else values[c] for c in cols) + "\n"
        assert [e.line for e in import_associations(s, broken).errors] == [3]


def test_invalid_utf8(demo_db):
    data = (HEADER + "\n").encode() + row(name="四川省测试协会").encode("gbk") + b"\n"
    with demo_db.session_scope() as s:
        result = import_associations(s, data)
        assert result.errors and result.errors[0].line == 2 and "UTF-8" in result.errors[0].reason
        assert result.created == 0


def test_demo_does_not_duplicate_an_association_already_registered_by_name(regdb):
    with regdb.session_scope() as s:
        demo.load_demo(s)
        steel = s.scalar(select(m.Association).where(m.Association.name == "中国钢铁工业协会"))
        steel.credit_code = code("51100000500099777")  # as if imported under another code
    with regdb.session_scope() as s:
        demo.load_demo(s)
        assert s.scalar(select(func.count()).where(m.Association.name == "中国钢铁工业协会")) == 1
        assert count(s, m.Association) == len(demo.DEMO_ASSOCIATIONS)


# --- the rules (casework.registry.validation), as the form and the import share them ------------

def as_plain(a: m.Association) -> dict:
    """An association as the plain values a channel hands to check_association."""
    def code_of(unit):
        return unit.code if unit is not None else ""

    return {"credit_code": a.credit_code, "name": a.name, "abbreviation": a.abbreviation or "",
            "name_en": a.name_en or "", "level": a.level.value, "region_code": a.region_code,
            "status": a.status.value, "decoupled": a.decoupled, "is_sample": a.is_sample,
            "member_count": "" if a.member_count is None else str(a.member_count),
            "other_industry_departments": [u.code for u in a.other_industry_departments],
            **{f: code_of(getattr(a, f)) for f in UNIT_FIELDS}}


def test_every_demo_association_keeps_the_rules(demo_db):
    with demo_db.session_scope() as s:
        units = units_by_code(s)
        for a in s.scalars(select(m.Association)):
            values, problems = check_association(as_plain(a), units, a)
            assert problems == [], (a.name, problems)
            assert values.credit_code == a.credit_code and values.mediation_body is a.mediation_body


def test_a_field_the_channel_leaves_out_keeps_its_value(demo_db):
    with demo_db.session_scope() as s:
        a = s.scalar(select(m.Association).where(m.Association.name == "中国汽车工业协会"))
        a.status, a.member_count, a.name_en = m.AssociationStatus.deregistered, 12, "CAAM"
        raw = as_plain(a)
        for kept in KEPT_WHEN_ABSENT:  # as the edit form: no credit code, status or sample flag
            del raw[kept]
        values, problems = check_association(raw, units_by_code(s), a)
        assert problems == []
        assert (values.credit_code, values.status, values.is_sample, values.member_count, values.name_en) == (
            a.credit_code, m.AssociationStatus.deregistered, a.is_sample, 12, "CAAM")
        # a new association has nothing to keep: the credit code is required, the rest default
        values, problems = check_association(raw, units_by_code(s), None)
        assert [(p.field, p.reason) for p in problems] == [
            ("credit_code", "required"),
            ("mediation_body", "mediation body 'caam-mediation' belongs to another association")]
        # a form's multiple choice and the import's "a; b" are the same list
        raw = {**as_plain(a), "other_industry_departments": "ndrc；mofcom; ndrc"}
        values, problems = check_association(raw, units_by_code(s), a)
        assert [u.code for u in values.other_industry_departments] == ["ndrc", "mofcom"]


def test_a_form_shows_each_message_once(demo_db):
    with demo_db.session_scope() as s:
        a = s.scalar(select(m.Association).where(m.Association.name == "中国汽车工业协会"))
        raw = {**as_plain(a), "other_industry_departments": ["nope", "mca", "sc-civil-affairs"]}
        _, problems = check_association(raw, units_by_code(s), a)
        assert len(problems) == 3
        assert field_messages(problems) == {
            "other_industry_departments": [Message("Choose industry departments only.")]}
