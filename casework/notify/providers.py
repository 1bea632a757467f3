"""SMS through the Chinese cloud providers: 阿里云短信 (Dysmsapi SendSms) and 腾讯云短信
(SMS 2021-01-11 SendSms), through their own SDKs (their request signing and serialisation).

Both send only approved templates under an approved sign (签名): never free text. A notice's
template names the provider's template code (CHANGTONG_SMS_TEMPLATES) and its payload fills
the template's variables (``variables``: by name for Aliyun's ``${case_number}``, in that order
for Tencent's ``{1}``, ``{2}``). The outbox key travels as Aliyun's OutId / Tencent's
SessionContext, so that a retry is recognisable in the provider's delivery records.

Errors keep the outbox's back-off: a provider's throttling, daily limit, server error or an
unreachable endpoint is a TransientError (retried later); a template, sign, number or
parameter error is a PermanentError (the message fails). Either carries the provider's code
and message ("isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控"), which the outbox row records and
/admin shows; never the recipient.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from urllib.parse import urlsplit

from casework.notify.channels import HttpSmsGateway, Notice, PermanentError, TransientError
from casework.notify.templates import REQUIRED, SITE, TEMPLATES, placeholders

# the notices that go to a phone, and their provider template's variables in order (Tencent's
# {1}, {2}, ...) when the operator's entry in CHANGTONG_SMS_TEMPLATES lists none. Approved
# templates were written against these lists: an entry without a list keeps them exactly, and a
# variable the platform adds later (the invitation's body and answer date) is sent only to an
# operator whose entry lists it (``parse_templates``)
VARIABLES: dict[str, tuple[str, ...]] = {
    "case_receipt": ("case_number", "query_code"),
    "case_update": ("case_number",),
    "case_document": ("case_number",),
    "respondent_invite": ("case_number", "respondent_code"),
    "mediation_ended": ("case_number",),
    "mediation_session": ("case_number", "session_time", "place"),
    "mediation_session_moved": ("case_number", "old_time", "session_time", "place"),
    "mediation_session_cancelled": ("case_number", "session_time"),
    "judicial_confirmation": ("case_number",),
}
# sent by SMS once its template exists (the phone verification's code)
LATER = ("verify_code",)
# notices added after operators had their templates approved: a provider without a code for one
# still starts (getting a template approved takes hours to days); until the code is configured a
# moved session is announced with the session template (its new date, time and place), and a
# cancellation fails visibly on /admin (no other approved text says that a session is off)
NEWER = ("mediation_session_moved", "mediation_session_cancelled")
FALLBACK = {"mediation_session_moved": "mediation_session"}
PROVIDERS = ("aliyun", "tencent", "http")
ERROR_MAX = 300  # outbox_message.last_error
CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SETTING = "CHANGTONG_SMS_TEMPLATES"

# What the providers take as one variable's value (read 2026-12-08; check the consoles):
# - 阿里云: a notification template's variable is 1 to 35 characters unless the operator had the
#   limit lifted (help.aliyun.com/zh/document_detail/3041859: 默认的 35 字符上限), never empty,
#   and a link is not a variable (通知短信模板规范: links are fixed text of the template);
# - 腾讯云: an organisation's account has no limit on one variable (个人认证用户: 12), the whole
#   message with the sign is at most 500 characters (正文模板审核标准), and a link is not a template
#   parameter (FAQ 382/13301: 模板中的变量参数不允许传链接).
# A code, a number or a date is never cut (it would be wrong): one too long fails the notice, with
# the variable named. Free text (a place, a body's name) is cut to fit, with "..." at its end; on
# Tencent to 100 characters, so that the free texts of one message (two at most), its codes and
# dates, the longest fixed text and a sign stay under 500.
VALUE_MAX = {"aliyun": 35, "tencent": 100}
FREE_TEXT = frozenset({"place", "body"})
LINK = re.compile(r"(?i)(https?://|www\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|cn|net|org|io|me)(/|\b))")
# an online session's meeting link, which no provider takes as a variable: the parties find it on
# their pages, which the template names
LINK_PLACE = "线上会议（链接见查询页面）"
EMPTY = "-"  # neither provider takes an empty value (a notice queued before its variable existed)


class TemplatesError(ValueError):
    """CHANGTONG_SMS_TEMPLATES cannot be used as written (the settings refuse to start with it)."""


def sms_templates() -> list[str]:
    """Every notice template a phone may receive that needs a provider template code at start
    (``NEWER`` ones are sent once configured)."""
    return [t for t in (*VARIABLES, *LATER) if t in TEMPLATES and t not in NEWER]


def known_variables(template: str) -> tuple[str, ...]:
    """What a notice's payload gives a provider template: the placeholders of the platform's own
    texts but the site's address, which the provider's approved template writes out."""
    return tuple(p for p in placeholders(template) if p != SITE)


def variables(template: str, configured: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """A provider template's variables, in order: the operator's list for it (``configured``),
    or the notice's standing list (``VARIABLES``), or its payload's."""
    return configured or VARIABLES.get(template) or known_variables(template)


def template_code(spec: str) -> tuple[str, tuple[str, ...] | None]:
    """A stored entry of CHANGTONG_SMS_TEMPLATES: ``SMS_123`` -> (code, None), or
    ``SMS_123:case_number,body`` -> (code, its variables)."""
    code, colon, listed = spec.partition(":")
    return code, (tuple(listed.split(",")) if colon else None)


def parse_templates(raw: str) -> tuple[tuple[str, str], ...]:
    """``case_receipt=SMS_123,respondent_invite=SMS_456:case_number,respondent_code,body,answer_by``:
    each notice's provider template code and, after a colon, its variables in order (the list's
    commas run on up to the next ``notice=``). An entry without a list keeps the notice's standing
    variables exactly (``VARIABLES``). Refused, each with the reason: a notice template that does not
    exist, a code with spaces or quotes, a variable the notice does not give (the message lists
    those it does), one listed twice, and a list that leaves out what the recipient needs (the
    invitation's answer code). The pairs keep a list as ``CODE:a,b``."""
    entries: list[tuple[str, str, list[str] | None]] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if "=" not in part:
            if not entries or entries[-1][2] is None:
                raise TemplatesError(f"{SETTING}: {part!r} is neither notice=CODE nor a variable listed after "
                                    "notice=CODE: (such as respondent_invite=SMS_123:case_number,respondent_code)")
            entries[-1][2].append(part)
            continue
        name, _, rest = (x.strip() for x in part.partition("="))
        code, colon, first = (x.strip() for x in rest.partition(":"))
        if name not in TEMPLATES:
            raise TemplatesError(f"{SETTING}: no notice template {name!r}")
        if not CODE.fullmatch(code):
            raise TemplatesError(f"{SETTING}: {name} needs a template code such as SMS_123456, not {code!r}")
        if colon and not first:
            raise TemplatesError(f"{SETTING}: {name}={code}: names no variable after the colon")
        entries.append((name, code, [first] if colon else None))
    pairs: dict[str, str] = {}
    for name, code, listed in entries:
        if listed is not None:
            check_variables(name, listed)
        pairs[name] = code if listed is None else f"{code}:{','.join(listed)}"
    return tuple(pairs.items())


def check_variables(name: str, listed: list[str]) -> None:
    known = known_variables(name)
    unknown = [v for v in listed if v not in known]
    if unknown:
        raise TemplatesError(f"{SETTING}: {name} has no variable {', '.join(map(repr, unknown))}; "
                            f"it gives {', '.join(known)}")
    twice = sorted({v for v in listed if listed.count(v) > 1})
    if twice:
        raise TemplatesError(f"{SETTING}: {name} lists {', '.join(twice)} twice")
    lacking = [v for v in known if v in REQUIRED.get(name, ()) and v not in listed]
    if lacking:
        raise TemplatesError(f"{SETTING}: {name} must list {', '.join(lacking)}: the recipient needs it")


def _value(provider: str, name: str, raw) -> str:
    """One variable's value as the provider takes it (the limits above)."""
    value = " ".join(str(raw if raw is not None else "").split())
    if not value:
        return EMPTY
    if name in FREE_TEXT:
        if LINK.search(value):
            return LINK_PLACE if name == "place" else EMPTY
        value = value.replace("【", "（").replace("】", "）")  # 【】 is the sign's
        most = VALUE_MAX[provider]
        return value if len(value) <= most else value[:most - 3] + "..."
    if len(value) > VALUE_MAX[provider]:
        raise PermanentError(f"{name} is longer than {provider} takes in one variable ({VALUE_MAX[provider]})")
    return value


def provider_values(provider: str, notice: Notice, configured: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """The (variable, value) pairs of a notice for a provider's template, in its order."""
    return [(name, _value(provider, name, notice.params.get(name))) for name in variables(notice.template, configured)]


def _template(codes: dict[str, str], listed: dict[str, tuple[str, ...]], notice: Notice) -> tuple[str, Notice]:
    """The provider template code for a notice, and the notice as that template takes it (a
    ``NEWER`` notice without a code goes as its ``FALLBACK``, if it has one and that has a code)."""
    code = codes.get(notice.template)
    if not code and codes.get(FALLBACK.get(notice.template, "")):
        notice = replace(notice, template=FALLBACK[notice.template])
        code = codes[notice.template]
    if not code:
        raise PermanentError(f"no provider template for {notice.template} (CHANGTONG_SMS_TEMPLATES)")
    return code, notice


def _split(templates: dict[str, str]) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """The configured entries: notice -> code, and notice -> its listed variables (if listed)."""
    codes, listed = {}, {}
    for name, spec in templates.items():
        codes[name], variables_ = template_code(spec)
        if variables_:
            listed[name] = variables_
    return codes, listed


def _mainland(recipient: str) -> str:
    """The 11 digits of a mainland mobile number (+86 and separators dropped)."""
    digits = re.sub(r"\D", "", recipient)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not re.fullmatch(r"1\d{10}", digits):
        raise PermanentError("not a mainland mobile number")
    return digits


def _error(code, message) -> str:
    return f"{code}: {message}"[:ERROR_MAX]


def split_endpoint(endpoint: str | None) -> tuple[str, str | None]:
    """``https://dysmsapi.aliyuncs.com`` or ``http://127.0.0.1:8080`` -> (scheme, host[:port])."""
    if not endpoint:
        return "https", None
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    return parts.scheme, parts.netloc


# --- 阿里云短信 --------------------------------------------------------------------------------

# codes of an answer that will succeed later: flow control, limits, arrears, the provider's own trouble
ALIYUN_TRANSIENT = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH",
    "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "SignatureNonceUsed", "ServiceUnavailable", "InternalError",
})


def aliyun_transient(code: str) -> bool:
    """Flow control (isv.BUSINESS_LIMIT_CONTROL, isv.DAY_LIMIT_CONTROL, BUSINESS_LIMIT_HOUR...), but
    not a parameter's limits (isv.PARAM_LENGTH_LIMIT, isv.BLACK_KEY_CONTROL_LIMIT: permanent)."""
    return (code in ALIYUN_TRANSIENT or code.startswith(("Throttling", "isp.")) or "LIMIT_CONTROL" in code
            or "BUSINESS_LIMIT" in code) and code != "isp.RAM_PERMISSION_DENY"


class AliyunSms:
    """阿里云短信 SendSms: TemplateCode per notice, TemplateParam a JSON object of its variables."""

    def __init__(self, access_key_id: str, access_key_secret: str, sign_name: str, templates: dict[str, str], *,
                 region: str | None = None, endpoint: str | None = None, timeout: float = 10):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as open_api

        scheme, host = split_endpoint(endpoint)
        self.sign_name = sign_name
        self.templates, self.variables = _split(dict(templates))
        self.client = Client(open_api.Config(
            access_key_id=access_key_id, access_key_secret=access_key_secret, region_id=region or "cn-hangzhou",
            endpoint=host, protocol=scheme, connect_timeout=int(timeout * 1000), read_timeout=int(timeout * 1000)))

    def send(self, notice: Notice) -> None:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException
        from Tea.exceptions import TeaException

        code, notice = _template(self.templates, self.variables, notice)
        request = models.SendSmsRequest(
            phone_numbers=_mainland(notice.recipient), sign_name=self.sign_name,
            template_code=code, out_id=notice.key,
            template_param=json.dumps(dict(provider_values("aliyun", notice, self.variables.get(notice.template))),
                                      ensure_ascii=False))
        try:
            body = self.client.send_sms(request).body
        except AlibabaCloudException as exc:  # an HTTP error status: the SDK raises with the code
            code = str(exc.code or exc.status_code)
            error = _error(code, (exc.data or {}).get("Message") or exc.message)
            if isinstance(exc, ServerException) or aliyun_transient(code):
                raise TransientError(error) from None
            raise PermanentError(error) from None
        except TeaException as exc:  # unreachable, timed out (the SDK's own retries are off)
            raise TransientError(f"aliyun unreachable: {exc.__class__.__name__}") from None
        except OSError as exc:
            raise TransientError(f"aliyun unreachable: {exc.__class__.__name__}") from None
        code = body.code or ""
        if code == "OK":
            return
        error = _error(code, body.message)  # an HTTP 200 with a business error code
        raise (TransientError if aliyun_transient(code) else PermanentError)(error)


# --- 腾讯云短信 --------------------------------------------------------------------------------

TENCENT_TRANSIENT_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded", "InternalError", "ClientNetworkError",
                              "ServerNetworkError", "ResourceUnavailable", "FailedOperation.InsufficientBalance")
TENCENT_PERMANENT = frozenset({"LimitExceeded.PhoneNumberCountLimit"})  # too many numbers in one request


def tencent_transient(code: str) -> bool:
    return code not in TENCENT_PERMANENT and code.startswith(TENCENT_TRANSIENT_PREFIXES)


class TencentSms:
    """腾讯云短信 SendSms: TemplateId per notice, TemplateParamSet its variables in order, under an
    SMS application (SmsSdkAppId)."""

    def __init__(self, secret_id: str, secret_key: str, sdk_app_id: str, sign_name: str, templates: dict[str, str],
                 *, region: str | None = None, endpoint: str | None = None, timeout: float = 10):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        scheme, host = split_endpoint(endpoint)
        http = HttpProfile(protocol=scheme, endpoint=host or "sms.tencentcloudapi.com", reqTimeout=int(timeout))
        self.app_id, self.sign_name = sdk_app_id, sign_name
        self.templates, self.variables = _split(dict(templates))
        self.client = sms_client.SmsClient(credential.Credential(secret_id, secret_key), region or "ap-guangzhou",
                                           ClientProfile(httpProfile=http))

    def send(self, notice: Notice) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        code, notice = _template(self.templates, self.variables, notice)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + _mainland(notice.recipient)]
        request.SmsSdkAppId, request.SignName = self.app_id, self.sign_name
        request.TemplateId = code
        request.TemplateParamSet = [v for _, v in provider_values("tencent", notice,
                                                                  self.variables.get(notice.template))]
        request.SessionContext = notice.key
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:  # Response.Error, or the network
            code = exc.get_code() or "Error"
            error = _error(code, exc.get_message() if code not in ("ClientNetworkError",) else "unreachable")
            raise (TransientError if tencent_transient(code) else PermanentError)(error) from None
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise TransientError("tencent: no send status in the answer")
        if status.Code == "Ok":
            return
        error = _error(status.Code, status.Message)  # per number: limits, template, sign, number
        raise (TransientError if tencent_transient(status.Code or "") else PermanentError)(error)


log = logging.getLogger("changtong.notify")
_warned: set[str] = set()


def _warn_unconfigured(templates: dict[str, str]) -> None:
    """Once per process: the ``NEWER`` notices an operator has no provider template for yet."""
    for name in NEWER:
        if name not in templates and name not in _warned:
            _warned.add(name)
            fallback = FALLBACK.get(name)
            log.warning("CHANGTONG_SMS_TEMPLATES has no template code for %s: %s", name,
                        f"sent as {fallback} until one is configured" if fallback and fallback in templates
                        else "these notices fail (see /admin) until one is configured")


def sms_channel(settings):
    """The SMS channel the settings choose, or None (then only the development file sink)."""
    s = settings
    templates = dict(s.sms_templates)
    if s.sms_provider in ("aliyun", "tencent"):
        _warn_unconfigured(templates)
    if s.sms_provider == "aliyun":
        return AliyunSms(s.sms_access_key_id, s.sms_access_key_secret, s.sms_sign_name, templates,
                         region=s.sms_region, endpoint=s.sms_endpoint)
    if s.sms_provider == "tencent":
        return TencentSms(s.sms_access_key_id, s.sms_access_key_secret, s.sms_sdk_app_id, s.sms_sign_name,
                          templates, region=s.sms_region, endpoint=s.sms_endpoint)
    if s.sms_url:
        return HttpSmsGateway(s.sms_url, s.sms_token or "", sign=s.sms_sign_name)
    return None
