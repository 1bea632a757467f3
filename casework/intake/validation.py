"""Validation of a submission from any channel (web form, JSON API, hotline import).

Input is a nested mapping as the JSON API takes it; the web form is flattened to the
same shape. The result is either a clean ``Submission`` or errors per field, each a
``Message`` (msgid + params) that the caller translates. Nothing is stored here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from casework import reference
from casework.cases.models import CaseType
from casework.i18n import Message, N_
from casework.registry.validation import credit_code_problem
from casework.text import clean_text  # noqa: F401 (imported from here by many)

TITLE_MIN, TITLE_MAX = 4, 100
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 5000
NAME_MAX = 50
PARTY_MIN, PARTY_MAX = 2, 100
CLAIM_MIN, CLAIM_MAX = 5, 2000
HINT_MAX = 200
# the length limits of the form's text fields (lowest, highest), which the form states in its hints
LIMITS = {
    "association_hint": (0, HINT_MAX), "title": (TITLE_MIN, TITLE_MAX),
    "description": (DESCRIPTION_MIN, DESCRIPTION_MAX), "complainant.name": (1, NAME_MAX),
    "respondent.name": (PARTY_MIN, PARTY_MAX), "claim": (CLAIM_MIN, CLAIM_MAX),
    "organisation.name": (PARTY_MIN, PARTY_MAX), "agent.name": (1, NAME_MAX),
}
# who may file for an organisation or through an agent (委托代理人 with the complainant's 授权委托书,
# 市场监督管理投诉举报处理办法 第十、十一条): the case types that seek a remedy for the filer, a complaint and a mediation request.
# A report (举报) is the informant's own and may be anonymous; a suggestion asks for no remedy.
ORGANISATION_TYPES = (CaseType.complaint, CaseType.mediation)
COMPLAINANT_KINDS = ("person", "organisation")
POWER_OF_ATTORNEY = "power_of_attorney"  # Attachment.role of the agent's 授权委托书
UNKNOWN = {"", "unknown", "none", "不确定"}

# letters of any script, the middle dots used in transliterated names, spaces, and the
# punctuation company names carry; no markup, no digits in a person's name
_PERSON_NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ ·•.\-'])*$")
_PARTY_NAME = re.compile(r"^[^<>{}\\]*$")


@dataclass
class Party:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    id_number: str | None = None


@dataclass
class Organisation:
    """A company, member enterprise or other organisation that complains: not personal data."""
    name: str
    credit_code: str


@dataclass
class MediationRequest:
    respondent_kind: str
    claim: str
    amount: "Decimal | None" = None


@dataclass
class Submission:
    type: CaseType
    category_id: int
    title: str
    description: str
    association_id: int | None = None
    association_hint: str | None = None
    anonymous: bool = False
    complainant: Party = field(default_factory=Party)
    respondent: Party | None = None
    mediation: MediationRequest | None = None
    locale: str = "zh_CN"
    # "organisation": the complainant is ``organisation``, ``complainant`` the person filing for it
    complainant_kind: str = "person"
    organisation: Organisation | None = None
    agent: Party | None = None  # the 委托代理人 (name and phone) who files for the complainant


Errors = dict[str, list[Message]]  # field -> its messages (a form's or a CSV row's)


def add_error(errors: Errors, name: str, msgid: str, /, **params: Any) -> None:
    """One more message for the field ``name`` (positional: a message may have a parameter called
    name, e.g. the username taken)."""
    errors.setdefault(name, []).append(Message(msgid, params))


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "on", "yes", "y"}


def _china_number(raw: str) -> phonenumbers.PhoneNumber | None:
    """A valid Chinese (+86) phone number, or None."""
    try:
        num = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if num.country_code != 86 or not phonenumbers.is_valid_number(num):
        return None
    return num


def normalize_mobile(raw: str) -> str | None:
    """A Chinese mobile number as 11 digits, or None when it is not one."""
    num = _china_number(raw)
    if num is None or phonenumbers.number_type(num) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return str(num.national_number)


def normalize_any_phone(raw: str) -> str | None:
    """A Chinese mobile or fixed-line number in national format, or None."""
    num = _china_number(raw)
    if num is None:
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")


class _Collector:
    def __init__(self) -> None:
        self.errors: Errors = {}

    def add(self, name: str, msgid: str, **params: Any) -> None:
        add_error(self.errors, name, msgid, **params)

    def text(self, data: Mapping, name: str, lo: int, hi: int, *, required=True, multiline=False) -> str:
        raw = data.get(name.split(".")[-1])
        if raw is not None and not isinstance(raw, str):  # JSON's 123, [..] or {..}: never stored as its repr
            self.add(name, N_("Give this as text."))
            return ""
        if len(raw or "") > 2 * hi:  # too long however it is cleaned: refused unread
            self.add(name, N_("Please keep this under %(max)d characters (now %(n)d)."), max=hi, n=len(raw))
            return ""
        value = clean_text(raw, multiline=multiline)
        if not value:
            if required:
                self.add(name, N_("This field is required."))
            return ""
        if len(value) < lo:
            self.add(name, N_("Please write at least %(min)d characters."), min=lo)
        elif len(value) > hi:
            self.add(name, N_("Please keep this under %(max)d characters (now %(n)d)."), max=hi, n=len(value))
        return value


def _section(data: Mapping, key: str) -> Mapping:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _category(session: Session, code: str) -> "reference.CategoryRef | None":
    """The category in use with this code: from the cached reference data, or, when it is not
    there (or not in use), from the current version (a category added by another process)."""
    found = reference.categories(session, reference.cached(session)).by_code.get(code)
    if found is None or not found.active:
        found = reference.categories(session).by_code.get(code)
    return found if found is not None and found.active else None


def validate_submission(session: Session, data: Mapping[str, Any], *, locale: str = "zh_CN"):
    """Return (Submission, {}) or (None, errors)."""
    c = _Collector()
    if not isinstance(data, Mapping):
        c.add("__all__", N_("The request must be a JSON object."))
        return None, c.errors

    try:
        case_type = CaseType(str(data.get("type") or ""))
    except ValueError:
        c.add("type", N_("Choose what you are filing: complaint, report, mediation request or suggestion."))
        case_type = None

    # categories and associations come from this process's cached reference data (casework.
    # reference): a category not found there is looked for again in the current version before it
    # is refused; submit_case checks the version again in its transaction before it writes
    category = None
    code = clean_text(data.get("category"))
    if not code:
        c.add("category", N_("Choose a category."))
    else:
        category = _category(session, code)
        if category is None:
            c.add("category", N_("Unknown category."))
        elif case_type is not None and category.group != case_type.category_group:
            c.add("category", N_("This category does not fit this kind of case."))

    association_id = None
    raw_assoc = clean_text(data.get("association")).upper()
    if raw_assoc.lower() not in UNKNOWN:
        if not uscc.is_valid(raw_assoc):
            c.add("association", N_("This unified social credit code is not valid (18 characters with a check digit)."))
        else:
            # remembered once found, else read from the database (a code not found is never remembered)
            found = reference.cached(session).association(session, uscc.compact(raw_assoc))
            association_id = found.id if found is not None else None
            if association_id is None:
                c.add("association", N_("No association with this code is in the registry. Choose \u201cnot sure\u201d and describe it instead."))
    hint = c.text(data, "association_hint", 0, HINT_MAX, required=False) or None

    title = c.text(data, "title", TITLE_MIN, TITLE_MAX)
    description = c.text(data, "description", DESCRIPTION_MIN, DESCRIPTION_MAX, multiline=True)

    anonymous = as_bool(data.get("anonymous"))
    if anonymous and case_type not in (CaseType.report, None):
        c.add("anonymous", N_("Only a report can be filed anonymously."))
        anonymous = False

    complainant = Party()
    if not anonymous:
        section = _section(data, "complainant")
        contact_required = case_type in (CaseType.complaint, CaseType.report, CaseType.mediation)
        # a suggestion asks for no remedy, so it has no use for a resident ID number (个人信息保护法
        # 第六条: collect no more than the purpose needs); the form does not ask for one
        complainant = _party(c, section, "complainant", required=contact_required,
                             takes_id_number=case_type is not CaseType.suggestion)
    kind, organisation, agent = _acting(c, data, case_type, anonymous)

    respondent = None
    mediation = None
    if case_type is CaseType.mediation:
        section = _section(data, "respondent")
        name = c.text(section, "respondent.name", PARTY_MIN, PARTY_MAX)
        if name and not _PARTY_NAME.match(name):
            c.add("respondent.name", N_("This name contains characters that are not allowed."))
        phone_raw = clean_text(section.get("phone"))
        phone = normalize_any_phone(phone_raw) if phone_raw else None
        if phone_raw and phone is None:
            c.add("respondent.phone", N_("This is not a valid phone number in China."))
        respondent = Party(name=name, phone=phone)
        mediation = _mediation(c, data, section)

    if not as_bool(data.get("privacy_consent")):
        c.add("privacy_consent", N_("Please read and accept the privacy notice."))

    if c.errors:
        return None, c.errors
    return (
        Submission(
            type=case_type,
            category_id=category.id,
            title=title,
            description=description,
            association_id=association_id,
            association_hint=hint,
            anonymous=anonymous,
            complainant=complainant,
            respondent=respondent,
            mediation=mediation,
            locale=locale,
            complainant_kind=kind,
            organisation=organisation,
            agent=agent,
        ),
        {},
    )


def _acting(c: "_Collector", data: Mapping, case_type, anonymous: bool):
    """Who files: a person, or an organisation (its name and 统一社会信用代码, GB 32100; the
    complainant's name and phone are then those of the person filing for it), and an agent
    (委托代理人) with a 授权委托书. Returns (kind, Organisation or None, agent Party or None)."""
    section = _section(data, "complainant")
    kind = clean_text(section.get("kind")) or "person"
    agent_section = data.get("agent")
    if anonymous:
        if kind != "person" or agent_section:
            c.add("anonymous", N_("An anonymous report names no organisation and no agent."))
        return "person", None, None
    organisation = None
    if kind not in COMPLAINANT_KINDS:
        c.add("complainant.kind", N_("Say whether you file as a person or for an organisation."))
        kind = "person"
    elif kind == "organisation":
        if case_type is not None and case_type not in ORGANISATION_TYPES:
            c.add("complainant.kind", N_("Only a complaint or a mediation request can be filed for an organisation."))
        organisation = _organisation(c, _section(section, "organisation"))
    agent = None
    if agent_section is not None and agent_section != {}:
        if not isinstance(agent_section, Mapping):
            c.add("agent", N_("Give the agent as an object with name, phone and power_of_attorney."))
        elif case_type is not None and case_type not in ORGANISATION_TYPES:
            c.add("agent", N_("Only a complaint or a mediation request can be filed by an agent."))
        else:
            person = _party(c, {"name": agent_section.get("name"), "phone": agent_section.get("phone")},
                            "agent", required=True)
            agent = Party(name=person.name, phone=person.phone)
            if not agent_section.get("power_of_attorney"):
                c.add("agent.power_of_attorney", N_(
                    "Attach the power of attorney (授权委托书) signed by the person or organisation you act for."))
    return kind, organisation, agent


def _organisation(c: "_Collector", section: Mapping) -> "Organisation | None":

    name = c.text(section, "organisation.name", PARTY_MIN, PARTY_MAX)
    if name and not _PARTY_NAME.match(name):
        c.add("organisation.name", N_("This name contains characters that are not allowed."))
    code, problem = credit_code_problem(section.get("credit_code"))
    if not code:
        c.add("organisation.credit_code", N_("This field is required."))
    elif problem and "18 characters" in problem:
        c.add("organisation.credit_code", N_(
            "A unified social credit code has 18 characters; this one has %(n)d."), n=len(code))
    elif problem and "check digit" in problem:
        c.add("organisation.credit_code", N_(
            "The last character (check digit) of this unified social credit code does not match the others: "
            "please copy the code again from the business licence."))
    elif problem:
        c.add("organisation.credit_code", N_(
            "This unified social credit code has characters no such code has "
            "(digits and capital letters other than I, O, S, V and Z)."))
    return Organisation(name=name, credit_code=code) if name and code and not problem else None


RESPONDENT_KINDS = ("member_company", "association", "consumer", "other")
AMOUNT_MAX = Decimal("1000000000000")


def _mediation(c: "_Collector", data: Mapping, respondent: Mapping) -> MediationRequest:
    kind = clean_text(respondent.get("kind"))
    if kind not in RESPONDENT_KINDS:
        c.add("respondent.kind", N_("Say who the other party is."))
    claim = c.text(data, "claim", CLAIM_MIN, CLAIM_MAX, multiline=True)
    amount = None
    raw = clean_text(data.get("amount")).replace(",", "").replace("，", "")
    if raw:
        try:
            amount = Decimal(raw)
            if not amount.is_finite() or amount < 0 or amount >= AMOUNT_MAX:
                raise InvalidOperation
            amount = amount.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            c.add("amount", N_("Give the amount in yuan as a number, e.g. 20000 or 20000.50."))
            amount = None
    return MediationRequest(respondent_kind=kind, claim=claim, amount=amount)


def _party(c: _Collector, section: Mapping, prefix: str, *, required: bool, takes_id_number: bool = True) -> Party:
    """``takes_id_number=False``: a suggestion's filer, whose resident ID number is refused."""
    name = c.text(section, f"{prefix}.name", 1, NAME_MAX, required=required)
    if name and not _PERSON_NAME.match(name):
        c.add(f"{prefix}.name", N_("Please give a name in letters only (no digits or symbols)."))
    phone_raw = clean_text(section.get("phone"))
    phone = None
    if not phone_raw:
        if required:
            c.add(f"{prefix}.phone", N_("This field is required."))
    else:
        phone = normalize_mobile(phone_raw)
        if phone is None:
            c.add(f"{prefix}.phone", N_("Please give a mainland China mobile number (11 digits, e.g. 13800138000)."))
    email_raw = clean_text(section.get("email"))
    email = None
    if email_raw:
        try:
            email = validate_email(email_raw, check_deliverability=False).normalized
        except EmailNotValidError:
            c.add(f"{prefix}.email", N_("This e-mail address is not valid."))
    id_raw = clean_text(section.get("id_number")).upper()
    id_number = None
    if id_raw and not takes_id_number:
        c.add(f"{prefix}.id_number", N_("A suggestion needs no resident ID number. Please leave it out."))
    elif id_raw:
        if ric.is_valid(id_raw):
            id_number = ric.compact(id_raw)
        else:
            c.add(f"{prefix}.id_number", N_("This resident ID number is not valid."))
    return Party(name=name or None, phone=phone, email=email, id_number=id_number)


# -- a text that gives away its own code ----------------------------------------------------
# A complainant who pastes the query code into a text sent to the unit would show it to staff
# (and to every later reader of the file). Only the code's keyed hash is stored, so each
# stretch of the text shaped like a code is hashed and compared: words of letters and digits
# in groups of four, joined by spaces, dashes or underscores, that add up to 16 characters of
# the code's alphabet (as a code is shown and typed: in one piece or in its four groups). One
# hash at most per word, and only the text up to the field's maximum is read: linear in a
# bounded length (issue 17, item 2: hashing every 16-character window of a megabyte took 27 s).
# A code glued to other letters (abcXXXX-XXXX-XXXX-XXXX) is not found.

OWN_QUERY_CODE = N_("Your text contains your query code. Staff would see it: remove the code and send again.")
OWN_ANSWER_CODE = N_("Your text contains your answer code. Staff would see it: remove the code and send again.")
_WORD = re.compile(r"[0-9A-Za-z]+")
_JOINER = re.compile(r"[\s\-_]*")
# the longest text a move takes (a reply: 10,000 characters); a longer text is refused anyway
SCAN_MAX = 10_000


def code_candidates(text: str | None, *, limit: int = SCAN_MAX) -> list[str]:
    """Every code-shaped stretch of ``text`` (normalised as a typed code is), read up to twice
    ``limit`` characters (line breaks may come as two): at most one per word."""
    from casework.privacy.codes import ALPHABET, LENGTH, normalize

    raw = unicodedata.normalize("NFKC", (text or "")[: 2 * limit])
    # a code is written in groups of four: words of other lengths are no part of one
    words = [(m.start(), m.end(), normalize(m.group())) for m in _WORD.finditer(raw) if len(m.group()) % 4 == 0]
    found = {}
    for i, (_start, end, word) in enumerate(words):
        chars, last, j = word, end, i + 1
        while len(chars) < LENGTH and j < len(words) and _JOINER.fullmatch(raw, last, words[j][0]):
            chars, last, j = chars + words[j][2], words[j][1], j + 1
        if len(chars) == LENGTH and all(ch in ALPHABET for ch in chars):
            found[chars] = None
    return list(found)


def mentions_code(text: str | None, matches, *, limit: int = SCAN_MAX) -> bool:
    """True if some code-shaped stretch of ``text`` is a code for which ``matches(code)``
    holds (case, spaces, dashes and full-width characters ignored, as when a code is typed in)."""
    return any(matches(code) for code in code_candidates(text, limit=limit))
