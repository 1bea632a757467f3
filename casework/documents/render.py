"""A written notice made from its text: the placeholders filled from the case and the move's
event, the lines set in the document frame (templates/documents/written_notice.html) and
printed to PDF by WeasyPrint with "Noto Sans CJK SC" (Debian fonts-noto-cjk) embedded, like
the 调解协议书 (casework.mediation.document).

A report's addressee is "举报人", never the reporter's name: the name is kept under the
identity custodian's key, and the document is stored under the ordinary one.
"""
from __future__ import annotations

import re
from datetime import datetime
from string import Template


from casework.i18n import bilingual
from casework.cases.models import Case, CaseType, Event
from casework.cases.numbers import CHINA
from casework.context import Services
from casework.documents.kinds import Document
from casework.documents.texts import (
    FINDINGS, LEGAL_BASIS, NOT_ACCEPT, OPINION_BASIS, OPINIONS, TRANSFER_REASONS, WORDS, decision_basis,
)
from casework.mediation.document import html_to_pdf, template_env

FRAME = "written_notice.html"
REQUEST_MAX = 2000  # the request as the document quotes it: the case's title and description
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|\d+\.\s)")


def language(case: Case) -> str:
    return "en" if (case.locale or "").startswith("en") else "zh_CN"


def _date(when: datetime | None, locale: str) -> str:
    if when is None:
        return ""
    local = when.astimezone(CHINA)
    return WORDS[locale]["date_format"].format(y=local.year, m=local.month, d=local.day)


def _unit_name(unit, locale: str) -> str:
    if unit is None:
        return ""
    return bilingual(unit.name, unit.name_en, locale)


def values(session, services: Services, case: Case, event: Event, kind: Document, locale: str) -> dict[str, str]:
    """Every placeholder's value for this document."""
    from casework.registry.models import Unit

    words = WORDS[locale]
    data = event.data or {}
    # without a name the notice is addressed by role, the role of the case's type (issue 16, 10)
    role = words["filer"].get(case.type.value, words["complainant"])
    # a report is addressed by its role, never the reporter's name (its identity stays with the
    # custodian): 举报人, or 匿名举报人 for one that gave none
    if case.type is CaseType.report or case.anonymous:
        addressee = words["anonymous"] if case.anonymous else role
    else:
        # an organisation that complained is addressed by its name, not its filer's (issue 19)
        addressee = (case.organisation_name
                     or services.cipher.decrypt_text(case.complainant_name_enc, "case.complainant.name") or role)
    unit = case.unit
    if kind is Document.transfer and data.get("from_unit_id"):
        unit = session.get(Unit, data["from_unit_id"])  # the transferring unit writes the notice
    out = {
        "case_number": case.number, "complainant": addressee, "title": case.title,
        "submitted_date": _date(case.submitted_at, locale), "date": _date(event.created_at, locale),
        "unit": _unit_name(unit, locale), "legal_basis": LEGAL_BASIS[kind][locale],
        "note": event.public_text or "", "opinion": event.public_text or "",
        "explanation": event.public_text or "",
    }
    if kind is Document.acceptance:
        out["due_date"] = _date(case.due_at, locale) or words["no_due_date"]
        out["legal_basis"] = decision_basis(case.type.value, None, locale, accepted=True)
    elif kind is Document.non_acceptance:
        why, remedy = NOT_ACCEPT[locale].get(data.get("reason"), NOT_ACCEPT[locale]["other"])
        out.update(reason=why, remedies=remedy,
                   legal_basis=decision_basis(case.type.value, data.get("reason"), locale, accepted=False))
    elif kind is Document.transfer:
        out.update(to_unit=_unit_name(case.unit, locale),
                   reason=TRANSFER_REASONS[locale].get(data.get("reason"), TRANSFER_REASONS[locale]["other"]))
    elif kind is Document.handling_opinion:
        request = f"{case.title}：{case.description}" if locale == "zh_CN" else f"{case.title}: {case.description}"
        finding = getattr(case.finding, "value", None)
        out.update(request=request[:REQUEST_MAX], finding=FINDINGS[locale].get(finding, words["no_finding"]))
    if data.get("opinion") in OPINIONS[locale]:
        # 第三十二条: the opinion and the laws it rests on; a 复查 or 复核 decides again in those terms
        # (a decision recorded before it named an opinion prints its text alone)
        out["opinion"] = "\n".join(filter(None, (OPINIONS[locale][data["opinion"]], event.public_text)))
        out["legal_basis"] = OPINION_BASIS[locale].format(basis=data.get("legal_basis") or "",
                                                          procedure=LEGAL_BASIS[kind][locale])
    if kind in (Document.handling_opinion, Document.review_opinion):
        # 复查 (第三十五条) and 复核 (第三十六条) go to the body one level above the unit deciding
        upper = case.unit.supervising_unit if case.unit is not None else None
        out.update(review_deadline=words["review_deadline"],
                   review_body=_unit_name(upper, locale) or words["no_review_body"])
    if kind is Document.re_review_opinion:
        out["finality"] = words["finality"]
    return out


def fill(text: str, vals: dict[str, str]) -> str:
    return Template(text).safe_substitute(vals)


def lines(body: str) -> list[tuple[bool, str]]:
    """(is a heading, text) for each non-empty line of a filled body."""
    return [(bool(_HEADING.match(line)) and len(line) <= 40, line.strip())
            for line in body.splitlines() if line.strip()]


def document_html(title: str, body: str, vals: dict[str, str], locale: str) -> str:
    words = WORDS[locale]
    return template_env().get_template(FRAME).render(
        lang="en" if locale == "en" else "zh-CN", title=fill(title, vals), lines=lines(fill(body, vals)),
        number_label=words["number"], number=vals["case_number"], unit=vals["unit"], seal=words["issued_by"],
        date=vals["date"],
    )


def document_pdf(title: str, body: str, vals: dict[str, str], locale: str) -> bytes:
    return html_to_pdf(document_html(title, body, vals, locale))
