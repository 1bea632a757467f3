"""The 调解协议书 (mediation agreement) as a PDF, in the customary form.

What 人民调解法 第二十九条 lists: the parties' particulars (name; ID number or credit code;
address; legal representative or agent), the main facts, the matters in dispute and each
party's responsibility, the agreed terms as numbered lines, and how and by when they are
performed; then when it takes effect (the parties sign, seal or fingerprint it, the mediator
signs and the body seals it), the note on judicial confirmation within 30 days of that day
(人民调解法 第三十三条 for a 人民调解委员会, 民事诉讼法 第二百零五条 for any other mediation
body) and a signatures block with the body's name. The document is for the parties, so their names are given in full.

Rendered from templates/documents with a plain Jinja2 environment (casework has no Flask)
and WeasyPrint, with "Noto Sans CJK SC" (Debian fonts-noto-cjk) embedded. WeasyPrint is
imported inside the function: it is heavy and only this needs it.
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "documents"
TEMPLATE = "mediation_agreement.html"

# the party the applicant named, in the document's words
RESPONDENT_KINDS_ZH = {
    "member_company": "会员企业",
    "association": "协会",
    "consumer": "消费者",
    "other": "",
}

_NUMERALS = "一二三四五六七八九十"
# a line that already carries its own number: 一、 (一) 1. 1、 第一条 ...
_LEADING_NUMBER = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百零〇\d]+条|[（(]?[一二三四五六七八九十百零〇]+[)）、.．]|[（(]?\d+[)）、.．])\s*")
_PERFORMANCE = re.compile(r"^\s*履行(?:方式|期限|时间|地点)")


@lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    """The templates of the platform's documents (templates/documents): the 调解协议书 and the
    written notices (casework.documents)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def html_to_pdf(html: str) -> bytes:
    """A document's HTML as PDF bytes, its fonts embedded (WeasyPrint with Noto CJK)."""
    from weasyprint import HTML  # heavy: only when a document is made

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def chinese_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (enough for the lines of a document)."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else _NUMERALS[tens - 1]
    return head + "十" + (_NUMERALS[ones - 1] if ones else "")


def numbered_lines(text: str) -> list[str]:
    """Each non-empty line of ``text`` numbered 一、二、三、…, whatever numbering it came with."""
    lines = [_LEADING_NUMBER.sub("", line).strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    return [f"{chinese_ordinal(i)}、{line}" for i, line in enumerate(lines, 1)]


def split_terms(terms: str) -> tuple[list[str], list[str]]:
    """(the terms, numbered; the lines on how and by when they are performed, as written)."""
    raw = [line for line in (terms or "").splitlines() if line.strip()]
    performance = [line for line in raw if _PERFORMANCE.match(_LEADING_NUMBER.sub("", line))]
    rest = [line for line in raw if line not in performance]
    if not rest:  # nothing but performance lines: they are the terms
        rest, performance = performance, []
    return numbered_lines("\n".join(rest)), [_LEADING_NUMBER.sub("", line).strip() for line in performance]


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _group_words(group: int) -> str:
    """1..9999 in capital numerals, zeros inside the group read once (壹仟零伍)."""
    out, zero = "", False
    for pos in (3, 2, 1, 0):
        digit = group // 10 ** pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _SMALL_UNITS[pos]
    return out


def amount_in_figures(amount: Decimal | None) -> str | None:
    """An amount of yuan in figures, with its fen and thousands grouped: 12000.5 → 12,000.50. The one
    writing of money: the agreement's, and every page's (web.presenters.money)."""
    return None if amount is None else f"{Decimal(amount):,.2f}"


def amount_in_words(amount: Decimal) -> str:
    """An amount of yuan in capital numerals as written on contracts: 300000 → 叁拾万元整,
    1005.5 → 壹仟零伍元伍角, 100000001 → 壹亿零壹元整."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount < 0:
        raise ValueError("negative amount")
    yuan = int(amount)
    cents = int((amount - yuan) * 100)
    jiao, fen = divmod(cents, 10)
    groups = []
    n = yuan
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(_BIG_UNITS):
        raise ValueError("amount too large")
    words, gap = "", False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            gap = bool(words)
            continue
        if words and (gap or g < 1000):
            words += "零"
        words += _group_words(g) + _BIG_UNITS[i]
        gap = False
    if not words and not cents:
        return "零元整"
    out = words + "元" if words else ""
    if not cents:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif words:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    return out


# where the 30 days for 司法确认 come from: 人民调解法 第三十三条 for a 人民调解委员会, the Civil
# Procedure Law (2023) for any other mediation organisation set up under the law
CONFIRMATION_BASIS = {
    True: "依照《中华人民共和国人民调解法》第三十三条的规定",
    False: "依照《中华人民共和国民事诉讼法》第二百零五条的规定",
}


def agreement_html(case, mediation, *, applicant_name: str, respondent_name: str, body_name: str,
                   mediator_name: str | None, particulars: dict | None = None,
                   people_mediation: bool = False) -> str:
    terms, performance = split_terms(mediation.terms or "")
    if mediation.performance_method:
        # performance is its own part of the agreement (人民调解法 第二十九条 (三))
        terms, performance = numbered_lines(mediation.terms or ""), [mediation.performance_method]
    due = getattr(mediation, "performance_due", None)
    p = particulars or {}
    amount = mediation.amount
    kind = getattr(mediation.respondent_kind, "value", mediation.respondent_kind)
    return template_env().get_template(TEMPLATE).render(
        number=case.number,
        body_name=body_name,
        applicant_name=applicant_name,
        respondent_name=respondent_name,
        respondent_kind=RESPONDENT_KINDS_ZH.get(kind, ""),
        association_name=case.association.name if case.association is not None else None,
        category=case.category.name if case.category is not None else None,
        facts=mediation.facts or "",
        claim=mediation.claim or "",
        amount=amount_in_figures(amount),
        amount_words=amount_in_words(amount) if amount is not None else None,
        terms=terms,
        performance=performance,
        performance_due=f"{due.year}年{due.month}月{due.day}日" if due else None,
        issues=mediation.issues or "",
        liability=mediation.liability or "",
        applicant=p_party(p, "applicant"),
        respondent=p_party(p, "respondent"),
        confirmation_basis=CONFIRMATION_BASIS[bool(people_mediation)],
        body_kind="人民调解委员会" if people_mediation else "调解组织",
        mediator_name=mediator_name or "",
    )


def p_party(particulars: dict, who: str) -> dict:
    return {k: particulars.get(f"{who}_{k}", "") for k in ("id", "address", "agent")}


def agreement_pdf(case, mediation, *, applicant_name: str, respondent_name: str, body_name: str,
                  mediator_name: str | None, particulars: dict | None = None,
                  people_mediation: bool = False) -> bytes:
    """The 调解协议书 of this case as PDF bytes (fonts embedded)."""
    html = agreement_html(case, mediation, applicant_name=applicant_name, respondent_name=respondent_name,
                          body_name=body_name, mediator_name=mediator_name, particulars=particulars,
                          people_mediation=people_mediation)
    return html_to_pdf(html)
