"""Open data: the public statistics as CSV and JSON, with a stable schema and a data dictionary.

Three datasets, each read from the rollups and passed through casework.stats.disclosure:
``monthly`` (one row per month of the period and case type, every case), ``associations``
and ``units`` (one row per association or unit with cases filed in the period). Columns
keep their order and snake_case English names; a change of a column's name, type or meaning
raises ``SCHEMA_VERSION``. Suppressed values are empty (CSV) or null (JSON), and every row's
``suppressed`` names them. Nothing personal is published: no names of people, no case
numbers, no free text; associations and units are organisations.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from casework.cases.models import CaseType
from casework.cases.numbers import CHINA
from casework.db import as_utc
from casework.registry.models import Association, Unit
from casework.stats.disclosure import PUBLIC_MEASURES, PUBLIC_RATES, Group
from casework.stats.published import Published
from casework.stats.queries import RATE_PARTS, Period

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string, integer, decimal, month, datetime, list
    zh: str
    en: str


_F = Field


def _count(name: str, zh: str, en: str) -> Field:
    return Field(name, "integer", zh, en)


def _rate(name: str, zh: str, en: str) -> Field:
    """A published rate, described by its parts (casework.stats.queries.RATE_PARTS)."""
    numerator, parts = RATE_PARTS[name]
    formula = f"{numerator} ÷ " + (parts[0] if len(parts) == 1 else f"({' + '.join(parts)})")
    return Field(name, "decimal", f"{zh} = {formula}，0–1，四位小数", f"{en} = {formula}, 0–1, four decimals")


FIELDS = {f.name: f for f in (
    _F("month", "month", "案件提交的月份（北京时间），YYYY-MM", "Month the cases were filed (Beijing time), YYYY-MM"),
    _F("case_type", "string", "案件类型：complaint 投诉，report 举报，mediation 调解申请，suggestion 建议",
       "Case type: complaint, report, mediation (mediation request), suggestion"),
    _F("period_start", "month", "统计期间的第一个月（含），YYYY-MM", "First month of the period (inclusive), YYYY-MM"),
    _F("period_end", "month", "统计期间的最后一个月（含），YYYY-MM", "Last month of the period (inclusive), YYYY-MM"),
    _F("credit_code", "string", "协会的统一社会信用代码（18位）", "The association's unified social credit code (18 characters)"),
    _F("association_name", "string", "协会名称", "Name of the association (Chinese)"),
    _F("association_name_en", "string", "协会英文名称（可为空）", "English name of the association (may be empty)"),
    _F("association_level", "string", "协会级别：national 全国，provincial 省，municipal 市，county 县",
       "Level: national, provincial, municipal, county"),
    _F("region_code", "string", "行政区划代码（GB/T 2260，6位）", "Administrative division code (GB/T 2260, 6 digits)"),
    _F("unit_code", "string", "单位在本平台的代码（稳定不变）", "The unit's code on this platform (stable)"),
    _F("unit_name", "string", "单位名称", "Name of the unit (Chinese)"),
    _F("unit_name_en", "string", "单位英文名称（可为空）", "English name of the unit (may be empty)"),
    _F("unit_kind", "string",
       "单位类型：industry_department 行业管理部门，registration_authority 登记管理机关，supervisory_unit 业务主管单位，"
       "party_work_department 党委社会工作部门，discipline_inspection 纪检监察机构，mediation_body 调解组织，triage 平台分拨",
       "Kind of unit: industry_department, registration_authority, supervisory_unit, party_work_department, "
       "discipline_inspection (discipline inspection and supervision body), mediation_body, "
       "triage (the platform's routing desk)"),
    _count("received", "收到的案件数", "Cases filed"),
    _count("accepted", "已受理的案件数（调解：调解已开始）", "Cases taken up (accepted, or mediation started)"),
    _count("not_accepted", "不予受理的案件数", "Cases not accepted"),
    _count("concluded", "已办结的案件数（办结、不予受理、撤回、调解成功、调解不成）",
           "Cases finished (closed, not accepted, withdrawn, mediation succeeded or failed)"),
    _count("on_time", "按时办结的案件数（从未超过期限）", "Cases finished without ever passing a deadline"),
    _count("rated", "投诉人评价了答复的案件数", "Cases whose reply the complainant rated"),
    _count("satisfied", "评价为满意或基本满意的案件数", "Cases rated satisfied or basically satisfied"),
    _count("mediation_ended", "调解已结束的案件数（成功或不成）", "Mediations ended (agreement or not)"),
    _count("mediation_agreed", "调解成功（达成协议）的案件数", "Mediations that reached an agreement"),
    _rate("acceptance_rate", "受理率", "Acceptance rate"),
    _rate("on_time_rate", "按时办结率", "On-time rate"),
    _rate("satisfaction_rate", "满意率", "Satisfaction rate"),
    _rate("mediation_success_rate", "调解成功率", "Mediation success rate"),
    _F("figures_as_of", "datetime", "统计数据最近一次计算的时间（ISO 8601，北京时间）",
       "When the figures were last computed (ISO 8601, Beijing time)"),
    _F("suppressed", "list", "不公开的字段名：涉及的案件过少，或为防止由合计推算出此类数字而不公开（CSV 中以空格分隔，JSON 中为列表）",
       "Names of the fields withheld: too few cases are behind them, or withheld so that such a figure cannot be "
       "worked out from a total (space separated in CSV, a list in JSON)"),
)}

FIGURES = (*PUBLIC_MEASURES, *PUBLIC_RATES)
TAIL = ("figures_as_of", "suppressed")


@dataclass(frozen=True)
class Dataset:
    name: str
    zh: str
    en: str
    keys: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *FIGURES, *TAIL)

    @property
    def fields(self) -> list[Field]:
        return [FIELDS[c] for c in self.columns]


DATASETS = {d.name: d for d in (
    Dataset("monthly", "按月、按案件类型的全部案件", "All cases by month and case type", ("month", "case_type")),
    Dataset("associations", "按协会（统计期间有案件的协会）", "By association (associations with cases in the period)",
            ("period_start", "period_end", "credit_code", "association_name", "association_name_en",
             "association_level", "region_code")),
    Dataset("units", "按承办单位（首先办理案件的单位，与统计页面相同：申请复查后仍计入作出答复的单位；统计期间有案件的单位）",
            "By handling unit (the unit that handled each case first, as on the statistics pages: a case taken to "
            "review stays the replying unit's; units with cases in the period)",
            ("period_start", "period_end", "unit_code", "unit_name", "unit_name_en", "unit_kind", "region_code")),
)}


def beijing_iso(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).astimezone(CHINA).isoformat(timespec="seconds")


def _row(keys: dict, group: Group, as_of: str | None) -> dict:
    return {**keys, **group.values(), "figures_as_of": as_of, "suppressed": group.suppressed_fields()}


def rows(session, name: str, pub: Published | None, refreshed_at: datetime | None) -> list[dict]:
    """The dataset's rows in its column order; none before the statistics were first computed.
    The figures are the pages' (casework.stats.published): a count withheld on a page is
    withheld here, and the other way round."""
    if refreshed_at is None or pub is None:
        return []
    as_of = beijing_iso(refreshed_at)
    period = pub.period
    if name == "monthly":
        return [_row({"month": m, "case_type": t.value}, pub.group("type_month", t.value, m), as_of)
                for m in period.months for t in CaseType]
    span = {"period_start": period.first, "period_end": period.last}
    if name == "associations":
        ids = [k for k in pub.associations if k]
        found = session.scalars(select(Association).where(Association.id.in_(ids))
                                .order_by(Association.credit_code)) if ids else []
        return [_row({**span, "credit_code": a.credit_code, "association_name": a.name,
                      "association_name_en": a.name_en, "association_level": a.level.value,
                      "region_code": a.region_code}, pub.group("association", a.id), as_of) for a in found]
    if name == "units":
        ids = [k for k in pub.units if k]
        found = session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.code)) if ids else []
        return [_row({**span, "unit_code": u.code, "unit_name": u.name, "unit_name_en": u.name_en,
                      "unit_kind": u.kind.value, "region_code": u.region_code}, pub.group("unit", u.id), as_of)
                for u in found]
    raise KeyError(name)


def to_csv(dataset: Dataset, data: list[dict]) -> bytes:
    """UTF-8 with a byte order mark (Excel then reads the Chinese right); empty where null."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(dataset.columns)
    for row in data:
        writer.writerow(["" if row[c] is None else " ".join(row[c]) if c == "suppressed" else row[c]
                         for c in dataset.columns])
    return out.getvalue().encode("utf-8-sig")


def to_json(dataset: Dataset, data: list[dict], *, period: Period, threshold: int,
            refreshed_at: datetime | None, generated_at: datetime, notice: dict[str, str] | None = None) -> dict:
    """The dataset as JSON; ``notice``: the pages' sentence on withheld figures
    (disclosure.WITHHELD_NOTICE) by language, ``{"zh": …, "en": …}``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "dataset": dataset.name,
        "title": {"zh": dataset.zh, "en": dataset.en},
        "period": {"start": period.first, "end": period.last},
        "figures_as_of": beijing_iso(refreshed_at),
        "generated_at": beijing_iso(generated_at),
        "suppression": {"threshold": threshold,
                        "rule": "counts from 1 to threshold-1, every figure of a group whose received count is "
                                "from 1 to threshold-1, the counts withheld so that those cannot be worked out "
                                "from a total (the same everywhere: files and pages), and rates based on fewer "
                                "than threshold cases or made of a withheld count are null "
                                "and named in the row's suppressed list",
                        **({"notice": notice} if notice else {})},
        "fields": [{"name": f.name, "type": f.type, "zh": f.zh, "en": f.en} for f in dataset.fields],
        "rows": [{c: row[c] for c in dataset.columns} for row in data],
    }
