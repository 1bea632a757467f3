"""Translating domain messages and enum titles at the edge."""
from __future__ import annotations

from flask_babel import get_locale, gettext

from casework.i18n import Message, N_


def tr(message: Message) -> str:
    return message.render(gettext)


def tr_errors(errors: dict[str, list[Message]]) -> dict[str, list[str]]:
    return {field: [tr(m) for m in msgs] for field, msgs in errors.items()}


def current_locale() -> str:
    return str(get_locale() or "zh_CN")


def title(enum_member) -> str:
    return gettext(enum_member.title)


# The person who filed a case, by its type (issue 16, 10): in a sentence, and as a heading.
FILER = {
    "complaint": (N_("complainant"), N_("Complainant")),
    "report": (N_("reporter"), N_("Reporter")),
    "mediation": (N_("applicant"), N_("Applicant")),
    "suggestion": (N_("suggester"), N_("Suggester")),
}


def filer(case_type, *, capital: bool = False) -> str:
    """What the desk calls the person who filed a case of ``case_type`` (a CaseType or its
    value): 投诉人 (complaint), 举报人 (report), 申请人 (mediation), 建议人 (suggestion);
    complainant, reporter, applicant, suggester."""
    word, heading = FILER[getattr(case_type, "value", case_type)]
    return gettext(heading if capital else word)


def for_filer(text: str, case_type) -> str:
    """``text``, already translated, with the generic 投诉人 / complainant made the word of
    ``case_type``: the workflow table's labels and hints are written once for every type."""
    if getattr(case_type, "value", case_type) == "complaint":
        return text
    return (text.replace(gettext("Complainant"), filer(case_type, capital=True))
            .replace(gettext("complainant"), filer(case_type)))
