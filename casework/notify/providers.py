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
import re
from urllib.parse import urlsplit

from casework.notify.channels import HttpSmsGateway, Notice, PermanentError, TransientError
from casework.notify.templates import SITE, TEMPLATES, placeholders

# the notices that go to a phone, and their template variables in order (Tencent's {1}, {2}, ...)
VARIABLES: dict[str, tuple[str, ...]] = {
    "case_receipt": ("case_number", "query_code"),
    "case_update": ("case_number",),
    "case_document": ("case_number",),
    "respondent_invite": ("case_number", "respondent_code"),
    "mediation_ended": ("case_number",),
    "mediation_session": ("case_number", "session_time", "place"),
    "judicial_confirmation": ("case_number",),
}
# sent by SMS once its template exists (the phone verification's code)
LATER = ("verify_code",)
PROVIDERS = ("aliyun", "tencent", "http")
ERROR_MAX = 300  # outbox_message.last_error


def sms_templates() -> list[str]:
    """Every notice template a phone may receive: each needs a provider template code."""
    return [t for t in (*VARIABLES, *LATER) if t in TEMPLATES]


def variables(template: str) -> tuple[str, ...]:
    """A provider template's variables: the notice's payload. The site's address ($site in the
    platform's own texts) is written into the provider's approved template instead."""
    return VARIABLES.get(template) or tuple(p for p in placeholders(template) if p != SITE)


def _values(notice: Notice) -> tuple[str, ...]:
    return tuple(str(notice.params.get(name, "")) for name in variables(notice.template))


def _code(templates: dict[str, str], notice: Notice) -> str:
    code = templates.get(notice.template)
    if not code:
        raise PermanentError(f"no provider template for {notice.template} (CHANGTONG_SMS_TEMPLATES)")
    return code


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
        self.sign_name, self.templates = sign_name, dict(templates)
        self.client = Client(open_api.Config(
            access_key_id=access_key_id, access_key_secret=access_key_secret, region_id=region or "cn-hangzhou",
            endpoint=host, protocol=scheme, connect_timeout=int(timeout * 1000), read_timeout=int(timeout * 1000)))

    def send(self, notice: Notice) -> None:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException
        from Tea.exceptions import TeaException

        request = models.SendSmsRequest(
            phone_numbers=_mainland(notice.recipient), sign_name=self.sign_name,
            template_code=_code(self.templates, notice), out_id=notice.key,
            template_param=json.dumps(dict(zip(variables(notice.template), _values(notice))), ensure_ascii=False))
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
        self.app_id, self.sign_name, self.templates = sdk_app_id, sign_name, dict(templates)
        self.client = sms_client.SmsClient(credential.Credential(secret_id, secret_key), region or "ap-guangzhou",
                                           ClientProfile(httpProfile=http))

    def send(self, notice: Notice) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = ["+86" + _mainland(notice.recipient)]
        request.SmsSdkAppId, request.SignName = self.app_id, self.sign_name
        request.TemplateId = _code(self.templates, notice)
        request.TemplateParamSet = list(_values(notice))
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


def sms_channel(settings):
    """The SMS channel the settings choose, or None (then only the development file sink)."""
    s = settings
    templates = dict(s.sms_templates)
    if s.sms_provider == "aliyun":
        return AliyunSms(s.sms_access_key_id, s.sms_access_key_secret, s.sms_sign_name, templates,
                         region=s.sms_region, endpoint=s.sms_endpoint)
    if s.sms_provider == "tencent":
        return TencentSms(s.sms_access_key_id, s.sms_access_key_secret, s.sms_sdk_app_id, s.sms_sign_name,
                          templates, region=s.sms_region, endpoint=s.sms_endpoint)
    if s.sms_url:
        return HttpSmsGateway(s.sms_url, s.sms_token or "", sign=s.sms_sign_name)
    return None
