"""Filing a case from a phone browser, without JavaScript if need be.

One form per case type. Every POST keeps what was typed: a form with errors comes back
filled, with each error beside its field; files uploaded with a real submit (not with the
association lookup) are checked and staged under the form's token, so they are not lost either.
The token is issued by the server, signed and bound to this browser's session (``new_form_token``):
a token the server did not issue to this browser stages and files nothing (the form comes back
with a fresh one). The token doubles as the idempotency
key: a double-clicked or re-sent form shows the first receipt and files nothing twice.

A filing that went through answers 303 See Other to the receipt's GET address,
``/file/<type>/receipt/<number>`` (Post/Redirect/Get): back, a reload or a language switch on a
phone never asks to send the form again. The address holds the case number, never the query
code. The code is kept encrypted in the database for the receipt's minutes
(``receipt_minutes``, casework.intake.operations.kept_receipt) under a key that only this
browser's signed session holds (``RECEIPTS``; the session cookie ends with the browser): within
them the page shows the number and the code to this browser; after them, or to any other
browser, it shows the number only, says the code was shown once and how to open the case
without it (我的诉求), without reading the database.

The SMS code's step is Post/Redirect/Get too, with or without JavaScript: the POST that sends the
code keeps what was typed as an encrypted draft under the form's token for the code's minutes
(casework.intake.drafts) and answers 303 to ``/file/<type>?draft=<token>``, which shows the form
filled in with the code's box to the browser the token was issued to (any other sees an empty
form), and, once the case is filed, an empty form that says so. A wrong or missing code, and a new
code refused (sent less than a minute ago, the number or this browser locked, the day's limit
reached), answer the same way (the draft kept again, with what was typed since): the error is kept
once in this browser's signed session (``CODE_SAID``: the message only, never the number), and
the form's address shows it beside the code's box with the refusal's status (422; 429 with
Retry-After, the seconds until a new code may be sent, once the code is dead or a new one
refused), a reload the form without it. A look-up or an error elsewhere still answers its POST
with the form (static/js/intake.js gives such a page the form's address as its history entry).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from flask import abort, current_app, make_response, redirect, render_template, request, session as browser, url_for
from flask_babel import force_locale, gettext as _
from flask_wtf.csrf import generate_csrf

from casework.i18n import bilingual
from casework import reference
from casework.cases.models import Case, CaseType, Channel
from casework.cases.numbers import is_well_formed, normalize_number
from casework.intake import drafts, operations as ops
from casework.intake.files import UploadBudget, UploadRejected, inspect_upload
from casework.intake.validation import LIMITS, clean_text, validate_submission
from casework.notify.models import OutboxChannel
from casework.registry.models import Association
from casework.registry.lookup import lookup as registry_lookup
from casework.search.similar import open_matters
from casework.verify.service import CODE_MINUTES
from sqlalchemy import select

from web import phone_verify
from web.extensions import LOCALES, remember_language
from web.i18n import current_locale, tr, tr_errors
from web.pagecache import TokenPage, pages
from web.presenters import step_and_date
from web.public.blueprint import bp
from web.once import said_once
from web.requestdb import database, db_session, keep_on_error, services
from web.request_limits import as_id

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
RECEIPTS = "receipts"  # the signed session's key: {case number: [receipt key, until]} of this browser's filings
KEPT_RECEIPTS = 5  # at most this many receipts in one browser's session (the newest)
FORM_BINDING = "intake_binding"  # the signed session's key binding form tokens to this browser
NONCE_CHARS = 32  # secrets.token_urlsafe(24); the signature adds 22 (16 bytes of HMAC-SHA256)
FIELDS = (
    "association", "association_q", "association_hint", "category", "title", "description",
    "anonymous", "complainant.name", "complainant.phone", "complainant.email",
    "complainant.id_number", "respondent.name", "respondent.phone", "respondent.kind", "amount", "claim",
    "privacy_consent", "acting_as", "organisation.name", "organisation.credit_code", "agent.name", "agent.phone",
)
ACTING = ("self", "organisation", "agent")  # 以谁的名义: 本人, 单位, 代理他人 (issue 19)


def _case_type(slug: str) -> CaseType:
    try:
        return CaseType(slug)
    except ValueError:
        abort(404)


def _nested(form) -> dict:
    data: dict = {}
    for name in FIELDS:
        value = form.get(name, "")
        if "." in name:
            head, tail = name.split(".", 1)
            data.setdefault(head, {})[tail] = value
        else:
            data[name] = value
    return data


def _acting(data: dict, token: str) -> None:
    """The form's 以谁的名义 choice as the API's shape: an organisation inside the complainant,
    an agent beside it (with its staged power of attorney). Fields of the other choices are
    kept in the form but not read."""
    from casework.intake.validation import POWER_OF_ATTORNEY

    acting = data.pop("acting_as", "") or "self"
    organisation, agent = data.pop("organisation", {}), data.pop("agent", {})
    complainant = data.setdefault("complainant", {})
    if acting == "organisation" or (acting == "agent" and any(v.strip() for v in organisation.values())):
        complainant.update(kind="organisation", organisation=organisation)
    elif acting not in ACTING:
        complainant["kind"] = acting  # refused by the validation, in the user's language
    if acting == "agent":
        agent["power_of_attorney"] = any(a.role == POWER_OF_ATTORNEY for a in ops.staged_files(db_session(), token))
        data["agent"] = agent


def _categories(case_type: CaseType):
    """The categories in use for this case type, in their order (the reference data this
    process holds for the current version: casework.reference)."""
    return reference.categories(db_session()).offered(case_type.category_group)


def _render(case_type, values, token, *, errors=None, matches=None, status=200, notice=None, verify=None,
            fresh=False):
    """``fresh``: the token was made for this page, so nothing is staged under it yet."""
    session = db_session()
    if verify is None and request.method == "POST" and request.form.get("verification_id"):
        # a code was sent: a lookup, a removed file or an error elsewhere keeps its box (issue 19)
        from casework.privacy.masking import mask_phone

        from casework.intake.validation import normalize_mobile

        phone = clean_text(values.get("complainant.phone"))
        # masked as the code's box masked it (+86 137-0013-7001 is 137****7001, not +86****7001);
        # the form opened again shows the box before the number is typed again: the number the
        # code went to, not an empty one ("验证码已发送至 ，")
        masked = (mask_phone(normalize_mobile(phone) or phone) if phone
                  else (_pending_code(request.view_args.get("slug", "")) or {}).get("masked", ""))
        verify = {"id": request.form.get("verification_id", "")[:32], "masked": masked}
    selected = None
    code = clean_text(values.get("association")).upper()  # no NUL or control characters reach a query
    if code and code.lower() != "unknown":
        selected = session.scalar(select(Association).where(Association.credit_code == code))
    return render_template(
        "public/file.html",
        case_type=case_type,
        values=values,
        token=token,
        errors=errors or {},
        categories=_categories(case_type),
        selected_association=selected,
        # counts per category only, as of yesterday, no reports, none below the public threshold
        open_matters=(open_matters(session, selected.id, now=services().clock(),
                                   minimum=services().settings.public_min_count) if selected is not None else []),
        matches=matches,
        staged=[] if fresh else ops.staged_files(session, token),
        notice=notice,
        verify=verify,
        locale=current_locale(),
        limits=LIMITS,
    ), status


class _EnglishMatch:
    """An association as an English page's lookup names it."""
    def __init__(self, a):
        self.name = bilingual(a.name, a.name_en, "en")
        self.name_lang = "en" if a.name_en else "zh"  # the Chinese name where there is no English one (lang="zh-CN")
        self.abbreviation, self.credit_code, self.status = a.abbreviation, a.credit_code, a.status


def _lookup(session, q: str) -> list:
    """The associations the no-JS lookup offers, named as the JavaScript lookup
    (/api/v1/associations) names them: in English on an English page where the registry has an
    English name, in Chinese otherwise (issue 16, defect 6)."""
    found = registry_lookup(session, q)
    return [_EnglishMatch(a) for a in found] if current_locale().startswith("en") else found


def _token_mac(nonce: str, binding: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    mac = hmac.new(key, f"changtong form token|{binding}|{nonce}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def new_form_token() -> str:
    """A filing form's token: a random nonce and its HMAC under the secret key, bound to a random
    value kept in this browser's signed session. Staged files and the idempotency key use it."""
    binding = browser.get(FORM_BINDING)
    if not isinstance(binding, str) or not TOKEN.match(binding):
        binding = browser[FORM_BINDING] = secrets.token_urlsafe(16)
    nonce = secrets.token_urlsafe(24)
    return nonce + _token_mac(nonce, binding)


def form_token_valid(token: str) -> bool:
    """Whether this server issued ``token`` to this browser (a client-chosen token is not)."""
    binding = browser.get(FORM_BINDING)
    if not isinstance(binding, str) or not TOKEN.match(token or "") or len(token) != NONCE_CHARS + 22:
        return False
    return hmac.compare_digest(token[NONCE_CHARS:], _token_mac(token[:NONCE_CHARS], binding))


@bp.get("/file/<slug>")
def file_form(slug: str):
    case_type = _case_type(slug)
    pending = _pending_code(slug)
    asked = request.args.get("draft", "")
    if asked and form_token_valid(asked):  # the code's step (303 from its POST), in this browser only
        shown = _draft_page(case_type, asked, pending)
        if shown is not None:
            return shown
    if pending is not None:  # the form opened again (a reload, a link) while a code is on its way
        # with the form's token, so the files it staged are still there, and what was typed
        # (the draft kept when the code was sent; JavaScript's copy in the tab's storage is newer)
        token = pending["token"] if form_token_valid(pending["token"]) else ""
        draft = drafts.read_draft(db_session(), services(), token) if token else None
        values = ((draft or {}).get("values") if (draft or {}).get("type") == slug else None) or {
            "association": request.args.get("association", "")}
        return _render(case_type, values, token or new_form_token(), fresh=not token, verify=pending,
                       notice=_code_sent(pending))
    cache = pages() if not request.query_string and "_flashes" not in browser else None
    if cache is None:  # ?association=… preselects one; a flash (none today) would be shown once
        values = {"association": request.args.get("association", "")}
        return _render(case_type, values, new_form_token(), fresh=True)
    # the empty form is the same for everyone but for its two tokens: rendered once per process,
    # language and version of the categories (web.pagecache), the tokens made for this browser
    snapshot = reference.recent(database().engine, db_session)  # asked at most once a second
    key = ("file_form", request.path, request.script_root, current_locale())
    tokens = {"csrf_token": generate_csrf(), "form_token": new_form_token()}
    page = cache.get(key, snapshot.version)
    if page is not None:
        return page.fill(tokens), 200
    snapshot = reference.current(db_session())  # rendered in the transaction that read the version
    html, status = _render(case_type, {"association": ""}, tokens["form_token"], fresh=True)
    if reference.cached(db_session()) is snapshot:  # rendered from that version's categories
        cut = TokenPage.cut(html, tokens)
        if cut is not None:
            cache.put(key, snapshot.version, cut)
    return html, status


@bp.post("/file/<slug>")
def file_submit(slug: str):
    case_type = _case_type(slug)
    session = db_session()
    svc = services()
    token = request.form.get("form_token", "")
    values = {name: request.form.get(name, "") for name in FIELDS}
    if not form_token_valid(token):  # not issued to this browser: nothing is staged or filed
        return _render(case_type, values, new_form_token(), status=400, notice=_(
            "This form had expired. Everything you typed is still here; please attach any files again and send it once more."))

    replay = ops.find_receipt(session, svc, token)
    if replay is not None:  # sent again (a double tap, a resend): the first filing's receipt
        return to_receipt(token, replay.case_number)

    errors: dict[str, list[str]] = {}
    remove = request.form.get("remove_file", "")
    if as_id(remove) is not None:
        ops.unstage_file(session, svc, token, as_id(remove))

    action = request.form.get("action", "submit")
    if action.startswith("language:"):
        return _switch_language(case_type, values, token, action.partition(":")[2])
    if action == "find" or remove:
        # files are checked and kept only when the form is sent, not with a lookup or a removal
        notice = (_("The files you chose were not kept yet: files are kept when you send the form. "
                    "Please choose them again before you send it.") if _chosen_files() or _chosen_power_of_attorney() else None)
        q = values.get("association_q", "").strip()
        matches = _lookup(session, q) if q else None
        if matches is not None and len(matches) == 1 and action == "find":
            # the one association found is the choice, not 不确定 (issue 16, 9): the form shows
            # it checked among the results, and once
            values["association"] = matches[0].credit_code
        return _render(case_type, values, token, errors=errors, matches=matches, notice=notice)
    _stage_uploads(session, svc, token, errors)

    data = _nested(request.form)
    _acting(data, token)
    data["type"] = case_type.value
    sub, domain_errors = validate_submission(session, data, locale=current_locale())
    if "agent.power_of_attorney" in errors:  # a refused file says why: not also "attach one"
        domain_errors.pop("agent.power_of_attorney", None)
    errors.update({k: errors.get(k, []) + v for k, v in tr_errors(domain_errors).items()})
    if errors:
        keep_on_error()  # the staged files wait for the next try
        return _render(case_type, values, token, errors=errors, status=422,
                       notice=_("Please correct the fields marked below. Nothing you entered has been lost."))
    verified = None
    if sub.complainant.phone and not sub.anonymous:
        # the number is proved with a code sent to it before the case is filed (issue 19)
        step = _phone_step(session, case_type, values, token, sub.complainant.phone, action)
        if step is not None:
            return step
        verified = "sms"
        # the number is proved: no code's box on the next form; the form's draft is not read again
        # (its address shows an empty form once the case is filed) and goes with its minutes
        # (casework.intake.drafts: not a statement more in the filing's budget, issue 18)
        browser.pop(PENDING_CODE, None)
        browser.pop(CODE_SAID, None)
    receipt = ops.submit_case(session, svc, sub, channel=Channel.web,
                              idempotency_key=token, staging_token=token, phone_verified=verified)
    return to_receipt(token, receipt.case_number)


def _draft_page(case_type, token: str, pending: dict | None):
    """The form at ``?draft=<token>`` (a token this browser was given): filled in from its draft
    with the code's box (without a code's id when a new code was refused and none was sent); once
    its case is filed, an empty form that says so (back from the receipt); after the draft's
    minutes, the form with its staged files, asking to fill it in again. None when a code for
    another form is pending (the pending form is shown)."""
    session, svc = db_session(), services()
    filed = ops.find_receipt(session, svc, token)
    if filed is not None:
        return _render(case_type, {"association": ""}, new_form_token(), fresh=True, notice=_(
            "Your case %(number)s has been filed. This is a new, empty form.", number=filed.case_number))
    draft = drafts.read_draft(session, svc, token)
    if draft is not None and draft.get("type") != case_type.value:  # another form's draft: not here
        return None
    said = _said(token)  # once: a reload shows the form without it
    if draft is not None and isinstance(draft.get("values"), dict) and isinstance(draft.get("box"), dict):
        box = {"id": str(draft["box"].get("id", ""))[:32], "masked": str(draft["box"].get("masked", ""))}
        values = {name: str(draft["values"].get(name, "")) for name in FIELDS}
        if said is None:  # "we sent a code" only for a box with one (a new code refused: none was sent)
            return _render(case_type, values, token, verify=box, notice=_code_sent(box) if box["id"] else None)
        # a wrong or missing code, or a new code refused: the form as the refusal's own answer showed it
        html, status = _render(case_type, values, token, verify=box, errors={"verify_code": [said["text"]]},
                               status=said["status"])
        wait = said["until"] - int(svc.clock().timestamp()) if said["until"] else 0
        return html, status, ({"Retry-After": str(max(1, wait))} if status == 429 and said["until"] else {})
    if pending is not None and pending["token"] != token:
        return None
    return _render(case_type, {"association": ""}, token, notice=_(
        "What you typed was kept for %(minutes)d minutes after the code was sent, and that time is over. "
        "Please fill in the form again.", minutes=CODE_MINUTES))


def _switch_language(case_type, values, token, code: str):
    """The header's 中文 / English on this form sends the form: it comes back in that language
    with everything typed, the association chosen and the code's box, and the files chosen
    kept as a send keeps them (a file refused says why, in the new language). Nothing is
    checked or filed; the cookie makes the next pages that language too."""
    if code not in LOCALES:
        code = current_locale()
    with force_locale(code):
        errors: dict[str, list[str]] = {}
        _stage_uploads(db_session(), services(), token, errors)
        html, status = _render(case_type, values, token, errors=errors,
                               notice=None if errors else _("Everything you entered is still here."))
    return remember_language(make_response(html, status), code)


def _phone_step(session, case_type, values, token, phone: str, action: str):
    """None when the form carries the right code for this number; otherwise, everything typed and
    staged kept, the code's box: 303 to the form's address for a code just sent, a wrong or
    missing code, or a new code refused (the last three said there once, with why)."""
    from casework.privacy.masking import mask_phone
    from casework.verify.service import Refused

    key = phone_verify.browser_key()
    vid = request.form.get("verification_id", "")[:32]
    code = request.form.get("verify_code", "")
    box = {"id": vid, "masked": mask_phone(phone)}

    if phone_verify.proved(phone) and action != "resend":
        return None  # this browser proved the number in the last 30 minutes (a second case)
    if not vid and action != "resend":
        # a code already sent for this form to this number (the form opened again, filled again):
        # its box, rather than a new code refused as too soon and the code on the phone never checked
        pending = _pending_code(request.view_args["slug"])
        if pending and pending["id"] and pending["masked"] == box["masked"]:
            vid = box["id"] = pending["id"]
    if vid and code.strip() and action != "resend":
        checked = phone_verify.check(session, vid, phone, code)
        if checked.ok:
            from casework.verify.service import use

            use(checked.verification, services())
            phone_verify.remember(phone)
            return None
        if checked.reason == "wrong":  # counted: a 303 keeps what the request wrote
            return _to_draft(case_type, values, token, box, error=phone_verify.checked_text(checked, phone, key))
        if checked.reason == "dead":  # the page says when a new code may be sent, Retry-After too
            return _to_draft(case_type, values, token, box, error=phone_verify.checked_text(checked, phone, key),
                             status=429, wait=phone_verify.dead_wait(checked, phone, key))
        vid = ""  # expired, or sent to another number: a new code
    elif vid and action != "resend":
        return _to_draft(case_type, values, token, box, error=_("Enter the 6-digit code from the SMS."))
    try:
        verification = phone_verify.send(session, phone=phone, purpose="intake", locale=current_locale(),
                                         client_key=key)
    except Refused as refused:  # no new code (too soon, locked, the day's limit): said as a wrong
        # code is, with the seconds until one may be sent; the box as it was (no id when no code was
        # sent to this browser: its button asks for a new code once the wait is over)
        return _to_draft(case_type, values, token, box, error=phone_verify.refused_text(refused), status=429,
                         wait=refused.retry_after)
    box["id"] = verification.id
    _remember_code(request.view_args["slug"], box, token)
    return _to_draft(case_type, values, token, box)


def _to_draft(case_type, values, token, box, *, error: str | None = None, status: int = 422, wait: int = 0):
    """What was typed kept, encrypted, as the form's draft for the code's minutes, and 303 See
    Other to the form's GET address (Post/Redirect/Get): back from the receipt, or a reload, sends
    nothing again. ``error``: what the code's box says there once, with ``status`` (and, for a 429,
    ``wait``: the seconds until a new code may be sent, its Retry-After)."""
    drafts.keep_draft(db_session(), services(), token, {"type": case_type.value, "values": values, "box": box},
                      minutes=CODE_MINUTES)
    if error is None:
        browser.pop(CODE_SAID, None)
    else:
        until = int(services().clock().timestamp()) + int(wait) if wait else 0
        browser[CODE_SAID] = {"token": token, "text": error, "status": status, "until": until}
        _point_code(request.view_args["slug"], box, token)
    return redirect(url_for("public.file_form", slug=case_type.value, draft=token), code=303)


# what the code's box says once after a wrong or missing code, in this browser's signed session
# (signed, not secret: the message only, as said in the page's language, never the number), for
# the form's token it was said to
CODE_SAID = "intake_said"


def _said(token: str) -> dict | None:
    """The error kept for the code's box of the form ``token``, taken (said once), or None."""
    kept = said_once(CODE_SAID, token=token)
    if kept is None:
        return None
    text, status, until = kept.get("text"), kept.get("status"), kept.get("until")
    if not isinstance(text, str) or status not in (422, 429) or not isinstance(until, int):
        return None
    return {"text": text, "status": status, "until": until}


# the code sent for a form, kept in this browser's signed session: the form opened again (GET: a
# reload, the home page's link) shows the code's box, so the code already on the phone can be
# entered instead of waiting a minute to be sent another (a language switch sends the form, and
# the box comes back with it)
PENDING_CODE = "intake_code"


def _remember_code(slug: str, box: dict, token: str) -> None:
    browser[PENDING_CODE] = {"slug": slug, "id": box["id"], "masked": box["masked"], "token": token,
                             "until": int(services().clock().timestamp()) + CODE_MINUTES * 60}


def _point_code(slug: str, box: dict, token: str) -> None:
    """The code pending for this form is now this form's (a form opened again and filled in
    within the code's minutes): the form opened again shows its draft and its staged files."""
    kept = browser.get(PENDING_CODE)
    if isinstance(kept, dict) and kept.get("slug") == slug and kept.get("id") == box["id"] and kept.get("token") != token:
        browser[PENDING_CODE] = {**kept, "token": token}


def _pending_code(slug: str) -> dict | None:
    """The code's box for this form, if a code was sent for it in this browser and still lives."""
    kept = browser.get(PENDING_CODE)
    if not isinstance(kept, dict) or kept.get("slug") != slug:
        return None
    if kept.get("until", 0) < services().clock().timestamp():
        browser.pop(PENDING_CODE, None)
        return None
    token = kept.get("token")
    return {"id": kept.get("id", ""), "masked": kept.get("masked", ""), "token": token if isinstance(token, str) else ""}


def _code_sent(box: dict) -> str:
    return _("We sent a 6-digit code by SMS to %(phone)s. Enter it below and send the form again to file your case.",
             phone=box["masked"])


def to_receipt(key: str, number: str):
    """303 See Other to the receipt's GET address, the receipt kept under ``key`` remembered by
    this browser for the receipt's minutes (the newest ``KEPT_RECEIPTS``)."""
    now = services().clock().timestamp()
    kept = {n: v for n, v in _kept().items() if v[1] > now and n != number}
    kept[number] = [key, int(now) + services().settings.receipt_minutes * 60]
    browser[RECEIPTS] = dict(sorted(kept.items(), key=lambda item: item[1][1])[-KEPT_RECEIPTS:])
    return redirect(url_for("public.file_receipt", slug=_type_of(number).value, number=number), code=303)


def _kept() -> dict:
    kept = browser.get(RECEIPTS)
    if not isinstance(kept, dict):
        return {}
    return {n: v for n, v in kept.items() if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str)
            and TOKEN.match(v[0]) and isinstance(v[1], int)}


def _type_of(number: str) -> CaseType:
    return next(t for t in CaseType if t.number_prefix == number[:2])


def receipt_here(slug: str, number: str):
    """(number, the receipt with its code for this browser or None), for the receipt's address;
    404 for a number that is not one of ``slug``'s type (nothing is read for that)."""
    case_type = _case_type(slug)
    number = normalize_number(number)
    if not is_well_formed(number) or number[:2] != case_type.number_prefix:
        abort(404)
    entry = _kept().get(number)
    if entry is None or entry[1] <= services().clock().timestamp():
        return number, None
    receipt = ops.kept_receipt(db_session(), services(), entry[0])
    if receipt is None or receipt.case_number != number:
        return number, None
    return number, receipt


@bp.get("/file/<slug>/receipt/<number>")
def file_receipt(slug: str, number: str):
    """The receipt: the number and the query code for the browser that filed, within the
    receipt's minutes (a reload or a language switch shows it again), with what happens next and
    by when, as the status page says it (web.presenters.step_and_date); the number only, and how
    to open the case without the code, to any other browser or later: that page reads nothing
    (not even whether the number exists, nor the case's state or the date it waits for, which a
    filing's routing and an anonymous report's text make the case's own, not the number's). Never
    cached (no-store, as every page that is not marked public: web.security)."""
    number, receipt = receipt_here(slug, number)
    if receipt is None:
        return render_template("public/receipt.html", number=number, code=None, case_type=_type_of(number),
                               code_minutes=services().settings.receipt_minutes)
    sent = receipt.notices or frozenset()
    return render_template(
        "public/receipt.html", number=number, code=receipt.query_code, case_type=receipt.case_type,
        phone_given=OutboxChannel.sms in sent, email_given=OutboxChannel.email in sent,
        step=step_and_date(db_session().get(Case, receipt.case_id)),
        code_minutes=services().settings.receipt_minutes,
    )


def _chosen_files() -> list:
    return [f for f in request.files.getlist("attachments") if f and f.filename]


def _chosen_power_of_attorney() -> bool:
    f = request.files.get("agent.power_of_attorney")
    return bool(f and f.filename)


def _stage_uploads(session, svc, token, errors) -> None:
    from casework.intake.validation import POWER_OF_ATTORNEY

    files = [(f, None) for f in _chosen_files()]
    poa = request.files.get("agent.power_of_attorney")
    if poa and poa.filename and request.form.get("acting_as") == "agent":
        files.insert(0, (poa, POWER_OF_ATTORNEY))  # an agent's 授权委托书: cleaned as every file, marked
    if not files:
        return
    budget = UploadBudget()  # the pixels and the wall time all files of this request may cost
    room = svc.settings.max_files - ops.count_staged(session, token)
    for i, (storage, role) in enumerate(files):
        if i >= room:
            errors.setdefault("attachments", []).append(
                _("At most %(n)d files can be attached; the rest were not kept.", n=svc.settings.max_files))
            break
        data = storage.read(svc.settings.max_file_bytes + 1)
        try:
            clean = inspect_upload(storage.filename, data, max_bytes=svc.settings.max_file_bytes, budget=budget)
        except UploadRejected as rej:
            errors.setdefault("agent.power_of_attorney" if role else "attachments", []).append(tr(rej.message))
            continue
        ops.stage_file(session, svc, token, clean, role=role)


def csrf_failed_file():
    """A filing form whose CSRF token failed comes back filled in (web.public.expired decides
    when a failed form is answered so)."""
    case_type = _case_type(request.view_args.get("slug", ""))
    values = {name: request.form.get(name, "") for name in FIELDS}
    token = request.form.get("form_token", "")
    if not form_token_valid(token):
        token = new_form_token()
    notice = _("This form had expired. Everything you typed is still here; please attach any files again and send it once more.")
    return _render(case_type, values, token, status=400, notice=notice)
