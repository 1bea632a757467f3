"""Translating domain messages and enum titles at the edge."""
from __future__ import annotations

from flask_babel import get_locale, gettext

from casework.i18n import Message, N_
from casework.workflow.states import review_round


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


def for_case(text: str, case) -> str:
    """``for_filer`` for ``case``'s type, and the table's "复查（复核）" (one move decides either) as
    the step the case is at: 复查 while a review runs, 复核 while a re-review does (信访工作条例
    第三十五、三十六条)."""
    return for_round(for_filer(text, case.type), case.state)


def for_round(text: str, state) -> str:
    """``text``, already translated, with the table's "复查（复核）" as the step of a case in
    ``state`` (a CaseState or its value): 复查 while a review runs, 复核 while a re-review does;
    in any other state as it is. A move that decides the review says which by the state the case
    was in before it (web.desk.case's flash). The names are ``review_round``'s, as the mail to the
    units whose decision it decided gives them (casework.workflow.notices)."""
    either = review_round(None)
    if either in text and (named := review_round(state)) != either:
        text = text.replace(either, named)
    return text


# -- templates: gettext bound to the translations of the render ------------------------------------
#
# flask_babel gives Jinja callables that look up the request's translations again on every call
# (its context, its domain, the locale's name: about a fifth of the filing form's time, 80 calls a
# page). ``template_gettext`` resolves them once per render_template (inside force_locale too, so a
# document rendered in the case's language is translated in it) and gives the template callables
# bound to that object, with Jinja's own "newstyle" semantics (jinja2.ext._make_new_gettext):
# the result is Markup under autoescape and always %-formatted with the keyword arguments.
# Templates imported without context (macro files) still use the global callables: same strings.

_bound: dict[int, tuple] = {}  # id(translations) -> (translations, its callables); a few per process


def _bind(translations) -> dict:
    from jinja2 import pass_context
    from markupsafe import Markup

    ugettext, ungettext = translations.ugettext, translations.ungettext

    @pass_context
    def gettext_(__context, __string, **variables):
        rv = ugettext(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @pass_context
    def ngettext_(__context, __singular, __plural, __num, **variables):
        variables.setdefault("num", __num)
        rv = ungettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    def title_(enum_member) -> str:  # as title() above, without looking the translations up again
        return ugettext(enum_member.title)

    return {"gettext": gettext_, "_": gettext_, "ngettext": ngettext_, "title": title_}


def field_message(field: str, message: str) -> str:
    """An error summary's line: the field's label, then its error ("Title: This field is required.").
    A label that is a question ends with its own mark ("您对答复满意吗？请选择满意程度。", not "吗？："),
    the Latin one followed by a space."""
    if field.endswith("？"):
        return f"{field}{message}"
    if field.endswith("?"):
        return f"{field} {message}"
    return gettext("%(field)s: %(message)s", field=field, message=message)


def template_gettext() -> dict:
    """A context processor: gettext, _ and ngettext bound to the current translations."""
    from flask_babel import get_translations

    translations = get_translations()
    entry = _bound.get(id(translations))
    if entry is None or entry[0] is not translations:
        entry = _bound[id(translations)] = (translations, _bind(translations))
    return entry[1]
