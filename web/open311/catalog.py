"""Service discovery, the service list (one service per active category) and each service's
definition: the attributes a client asks for besides the standard fields."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from casework.cases.models import CaseType, Category, CategoryGroup
from casework.cases.numbers import CHINA
from casework.deadlines.limits import start_of_day
from casework.intake.validation import TITLE_MAX, TITLE_MIN
from casework.mediation.models import RespondentKind
from web.i18n import current_locale, title
from web.open311.blueprint import bp
from web.open311.render import cacheable, http_error, localized, respond
from web.requestdb import db_session
from web.requestdb import services as app_services
from web.urls import external_url

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FMT = "<any(json,xml):fmt>"


def case_types(group: CategoryGroup) -> list[CaseType]:
    return [t for t in CaseType if t.category_group == group]


def active_category(code: str) -> Category | None:
    return db_session().scalar(select(Category).where(Category.code == code, Category.active))


# -- discovery ---------------------------------------------------------------------------------

@bp.get(f"/discovery.{FMT}")
@localized
def discovery(fmt: str):
    # the service list is data an administrator edits and carries no change time: the
    # changeset is today's midnight (China time), so a client refreshes its cache daily
    today = start_of_day(app_services().clock().astimezone(CHINA).date())
    endpoint = external_url("open311.services", fmt="xml").rsplit("/", 1)[0]
    return cacheable(respond(fmt, "discovery", {
        "changeset": today.isoformat(timespec="seconds"),
        "contact": _("Changtong complaint and report platform: %(url)s", url=external_url("public.index")),
        "key_service": None,  # no key is needed (api_key is accepted and not required)
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": endpoint,
            "changeset": today.isoformat(timespec="seconds"),
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }))


# -- the service list --------------------------------------------------------------------------

def _service_description(category: Category, name: str) -> str:
    if category.group is CategoryGroup.mediation:
        return _("A request for mediation of a dispute: %(name)s.", name=name)
    if category.group is CategoryGroup.suggestion:
        return _("A suggestion about the work of industry associations and chambers of commerce: %(name)s.", name=name)
    return _("A complaint or report about an industry association or chamber of commerce: %(name)s.", name=name)


def service(category: Category) -> dict:
    locale = current_locale()
    name = category.display_name(locale)
    other = category.name if locale.startswith("en") else category.name_en
    keywords = [title(t) for t in case_types(category.group)] + ([other] if other and other != name else [])
    return {
        "service_code": category.code,
        "service_name": name,
        "description": _service_description(category, name),
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": title(category.group),
    }


@bp.get(f"/services.{FMT}")
@localized
def services(fmt: str):
    rows = db_session().scalars(select(Category).where(Category.active).order_by(Category.sort_order, Category.id))
    return cacheable(respond(fmt, "services", [service(c) for c in rows]))


# -- a service's definition --------------------------------------------------------------------

def _attr(code: str, datatype: str, description: str, *, required: bool = False, hint: str | None = None,
          values: list[tuple[str, str]] | None = None, variable: bool = True) -> dict:
    attr = {
        "variable": variable,
        "code": code,
        "datatype": datatype,
        "required": required,
        "datatype_description": hint,
        "order": 0,  # numbered below
        "description": description,
    }
    if values is not None:
        attr["values"] = [{"key": key, "name": name} for key, name in values]
    return attr


def attributes(category: Category) -> list[dict]:
    group = category.group
    types = case_types(group)
    attrs = [
        _attr("contact_notice", "string", _(
            "A complaint, a named report and a mediation request need your name (first_name and last_name) and a "
            "mainland China mobile number (phone); an e-mail address is optional. You will get a case number and a "
            "query code: keep the code, it is shown only once and you need it to follow the case."), variable=False),
        _attr("case_type", "singlevaluelist",
              _("What you are filing. If left out: %(default)s.", default=title(types[0])),
              values=[(t.value, title(t)) for t in types]),
        _attr("association_credit_code", "string",
              _("The unified social credit code (统一社会信用代码) of the association or chamber of commerce "
                "concerned. Leave it empty if you are not sure: the platform then finds the unit responsible."),
              hint=_("18 characters with a check digit, e.g. 51100000500009247D")),
        _attr("association_hint", "string",
              _("If you do not know the code: the association's name as you know it."),
              hint=_("At most %(max)d characters", max=200)),
        _attr("title", "string",
              _("A short title. If left out, the beginning of the description is used."),
              hint=_("%(min)d to %(max)d characters", min=TITLE_MIN, max=TITLE_MAX)),
    ]
    if CaseType.report in types:
        attrs.append(_attr("anonymous", "singlevaluelist",
                           _("File the report anonymously (reports only). You can still follow it with the query code."),
                           values=[("false", _("No")), ("true", _("Yes"))]))
    if CaseType.complaint in types or CaseType.mediation in types:
        # an organisation complains (issue 19); an agent cannot file here: the power of attorney
        # is a file, and Open311 sends none (media_url is never fetched)
        attrs += [
            _attr("organisation_name", "string", _(
                "Complaints and mediation requests only: the name of the company or other organisation you file "
                "for, as on its business licence. first_name, last_name and phone are then those of the person "
                "filing for it."), hint=_("%(min)d to %(max)d characters", min=2, max=100)),
            _attr("organisation_credit_code", "string", _(
                "The organisation's unified social credit code (统一社会信用代码), with its name."),
                hint=_("18 characters with a check digit")),
        ]
    if group is CategoryGroup.mediation:
        attrs += [
            _attr("respondent_name", "string", _("The other party's name (a person or a company)."), required=True,
                  hint=_("%(min)d to %(max)d characters", min=2, max=100)),
            _attr("respondent_kind", "singlevaluelist", _("Who the other party is."), required=True,
                  values=[(k.value, title(k)) for k in RespondentKind]),
            _attr("respondent_phone", "string", _("The other party's phone number, if you know it.")),
            _attr("claim", "text", _("What you ask for in the mediation."), required=True,
                  hint=_("%(min)d to %(max)d characters", min=5, max=2000)),
            _attr("amount", "number", _("The amount in dispute, in yuan, if any."), hint=_("e.g. 20000 or 20000.50")),
        ]
    attrs.append(_attr("privacy_consent", "singlevaluelist",
                       _("I have read the privacy notice (%(url)s) and agree that my data is used to handle this case.",
                         url=external_url("public.privacy")),
                       required=True, values=[("true", _("I agree"))]))
    for n, attr in enumerate(attrs, start=1):
        attr["order"] = n
    return attrs


@bp.get(f"/services/<service_code>.{FMT}")
@localized
def service_definition(service_code: str, fmt: str):
    category = active_category(service_code)
    if category is None:
        return respond(fmt, "errors", [{"code": 404, "description": f"service_code: {_('Unknown category.')}"}], 404)
    return cacheable(respond(fmt, "service_definition",
                             {"service_code": category.code, "attributes": attributes(category)}))


# -- any other path under /open311/v2: an Open311 error, not an HTML page ------------------------

@bp.get("/<path:rest>")
def fallback(rest: str):
    """GET only: another method on an unknown path is refused by the site (404/405) like any
    state-changing request it does not know."""
    return http_error(NotFound())
