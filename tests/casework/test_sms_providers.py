"""SMS through 阿里云短信 and 腾讯云短信: each adapter, through the provider's real SDK, against
a local fake of the provider's HTTP API on 127.0.0.1 that checks the signed request the SDK
sends (its signature recomputed with the test's secret) and answers success or the
provider's error body. Never the internet."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from sqlalchemy import select

from casework.context import Services
from casework.notify import dispatch
from casework.notify.channels import FileSink, Notice, PermanentError, TransientError
from casework.notify.models import OutboxChannel, OutboxMessage, OutboxStatus
from casework.notify.providers import AliyunSms, TencentSms, sms_channel, variables
from casework.settings import Settings, SettingsError, new_key

AK_ID, AK_SECRET = "LTAI-test-id", "test-secret-aliyun"
TC_ID, TC_KEY, APP_ID = "AKID-test", "test-secret-tencent", "1400000001"
TEMPLATES = {"case_receipt": "SMS_1001", "case_update": "SMS_1002", "respondent_invite": "SMS_1003"}
PHONE = "13800138000"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def aliyun_signature_ok(method: str, path: str, headers: dict, body: bytes) -> bool:
    """ACS3-HMAC-SHA256 (阿里云 V3 签名), recomputed from the request."""
    auth = headers["authorization"]
    m = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)", auth)
    if not m or m.group(1) != AK_ID or headers.get("x-acs-content-sha256") != _sha256(body):
        return False
    url = urlsplit(path)
    query = sorted(parse_qsl(url.query, keep_blank_values=True))
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    signed = m.group(2).split(";")
    canonical_headers = "".join(f"{h}:{headers[h].strip()}\n" for h in signed)
    canonical = "\n".join([method, url.path or "/", canonical_query, canonical_headers, ";".join(signed),
                           headers["x-acs-content-sha256"]])
    to_sign = "ACS3-HMAC-SHA256\n" + _sha256(canonical.encode())
    return hmac.compare_digest(hmac.new(AK_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest(), m.group(3))


def tencent_signature_ok(headers: dict, body: bytes) -> bool:
    """TC3-HMAC-SHA256 (腾讯云 API 3.0 签名), recomputed from the request."""
    m = re.fullmatch(r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/sms/tc3_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)", headers["authorization"])
    if not m or m.group(1) != TC_ID:
        return False
    day, signed = m.group(2), m.group(3).split(";")
    timestamp = headers["x-tc-timestamp"]
    if datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%d") != day:
        return False
    canonical_headers = "".join(f"{h}:{headers[h].strip().lower()}\n" for h in signed)
    canonical = "\n".join(["POST", "/", "", canonical_headers, ";".join(signed), _sha256(body)])
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{day}/sms/tc3_request\n{_sha256(canonical.encode())}"
    key = _hmac(_hmac(_hmac(("TC3" + TC_KEY).encode(), day), "sms"), "tc3_request")
    return hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), m.group(4))


class FakeProvider:
    """A provider's HTTP API on 127.0.0.1: records each request (checked: signed, the right
    action) and answers what ``answer`` says: (HTTP status, JSON body)."""

    def __init__(self, kind: str):
        self.kind, self.requests = kind, []
        self.answer = (200, self.ok())
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(fake.check(self.path, headers, body))
                status, answer = fake.answer
                out = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8" if fake.kind == "aliyun"
                                 else "application/json")  # as each provider answers
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ok(self):
        if self.kind == "aliyun":
            return {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"}
        return {"Response": {"SendStatusSet": [{"SerialNo": "5000:1045710669157053657849499619", "PhoneNumber":
                                                "+8613800138000", "Fee": 1, "SessionContext": "", "Code": "Ok",
                                                "Message": "send success", "IsoCode": "CN"}],
                             "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}

    def check(self, path: str, headers: dict, body: bytes) -> dict:
        """What the SDK sent, as the provider reads it; asserts it is signed and well formed."""
        if self.kind == "aliyun":
            assert headers["x-acs-action"] == "SendSms" and headers["x-acs-version"] == "2017-05-25"
            assert headers["x-acs-signature-nonce"] and headers["x-acs-date"]
            assert aliyun_signature_ok("POST", path, headers, body), "the ACS3 signature does not verify"
            return dict(parse_qsl(urlsplit(path).query)) | dict(parse_qsl(body.decode()))
        assert headers["x-tc-action"] == "SendSms" and headers["x-tc-version"] == "2021-01-11"
        assert headers["x-tc-region"] and headers["content-type"].startswith("application/json")
        assert tencent_signature_ok(headers, body), "the TC3 signature does not verify"
        return json.loads(body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request):
    fake = FakeProvider(request.param)
    yield fake
    fake.close()


def adapter(fake: FakeProvider, endpoint: str | None = None):
    if fake.kind == "aliyun":
        return AliyunSms(AK_ID, AK_SECRET, "畅通", TEMPLATES, endpoint=endpoint or fake.endpoint, timeout=5)
    return TencentSms(TC_ID, TC_KEY, APP_ID, "畅通", TEMPLATES, endpoint=endpoint or fake.endpoint, timeout=5)


RATE_LIMIT = {
    "aliyun": (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1",
                     "RequestId": "A1", "BizId": ""}),
    "tencent": (200, {"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": "+8613800138000", "Fee": 0,
                                                      "SessionContext": "", "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                                                      "Message": "the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit",
                                                      "IsoCode": "CN"}], "RequestId": "T1"}}),
}
TEMPLATE_ERROR = {
    "aliyun": (200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板", "RequestId": "A2"}),
    "tencent": (200, {"Response": {"Error": {"Code": "FailedOperation.TemplateIncorrectOrUnapproved",
                                             "Message": "template is not approved or request content does not match the approved template content"},
                                   "RequestId": "T2"}}),
}
RATE_TEXT = {"aliyun": "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1",
             "tencent": "LimitExceeded.PhoneNumberThirtySecondLimit: the number of sms messages"}
TEMPLATE_TEXT = {"aliyun": "isv.SMS_TEMPLATE_ILLEGAL: 该账号下找不到对应模板",
                 "tencent": "FailedOperation.TemplateIncorrectOrUnapproved: template is not approved"}


def sent_fields(fake: FakeProvider, request: dict) -> dict:
    """phone, sign, template code, variables and outbox key of one request, either provider."""
    if fake.kind == "aliyun":
        return {"phone": request["PhoneNumbers"], "sign": request["SignName"], "template": request["TemplateCode"],
                "params": json.loads(request["TemplateParam"]), "key": request["OutId"]}
    assert request["SmsSdkAppId"] == APP_ID
    return {"phone": request["PhoneNumberSet"], "sign": request["SignName"], "template": request["TemplateId"],
            "params": request["TemplateParamSet"], "key": request["SessionContext"]}


CASE_NUMBER, QUERY_CODE = "TS2026120500017", "K7Q2-M9XD-4HPA"


def queue_receipt(db, services) -> None:
    """A receipt notice to PHONE in the outbox, as filing a case writes it."""
    from casework.notify.queue import new_message

    with db.session_scope() as s:
        new_message(s, services, dedupe_key="case:1:receipt:sms", case_id=None, channel=OutboxChannel.sms,
                    template="case_receipt", locale="zh_CN", recipient=PHONE,
                    payload=json.dumps({"case_number": CASE_NUMBER, "query_code": QUERY_CODE}).encode())


def channels(fake, tmp_path, services):
    return {OutboxChannel.sms: adapter(fake), OutboxChannel.email: FileSink(tmp_path / "email", services.cipher)}


def sms_row(db) -> OutboxMessage:
    with db.session_scope(write=False) as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.sms)).one()


def send_sms(db, services, chans) -> str:
    return dispatch.send_message(db, services, sms_row(db).id, chans)


def later(services, delta):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files,
                    clock=lambda: services.clock() + delta)


def test_the_receipt_goes_through_the_provider_with_its_template_variables(provider, db, services, tmp_path):
    queue_receipt(db, services)
    assert send_sms(db, services, channels(provider, tmp_path, services)) == "sent"
    [request] = provider.requests
    got = sent_fields(provider, request)
    row = sms_row(db)
    assert got["template"] == "SMS_1001" and got["sign"] == "畅通"
    assert got["key"] == f"outbox:{row.id}:{row.dedupe_key}"  # the outbox key: a retry is recognisable
    if provider.kind == "aliyun":
        assert got["phone"] == PHONE and got["params"] == {"case_number": CASE_NUMBER, "query_code": QUERY_CODE}
    else:  # {1}, {2} in the order docs/operations.md gives
        assert got["phone"] == ["+86" + PHONE] and got["params"] == [CASE_NUMBER, QUERY_CODE]
    assert row.status is OutboxStatus.sent and row.last_error is None and row.payload_enc is None


def test_a_rate_limit_is_recorded_and_retried_later_with_the_same_key(provider, db, services, tmp_path):
    queue_receipt(db, services)
    chans = channels(provider, tmp_path, services)
    provider.answer = RATE_LIMIT[provider.kind]
    with pytest.raises(TransientError):
        chans[OutboxChannel.sms].send(Notice("k", PHONE, "", "", "case_update", {"case_number": "X"}))
    provider.requests.clear()
    assert send_sms(db, services, chans) == "pending"
    row = sms_row(db)
    assert row.status is OutboxStatus.pending and row.attempts == 1
    assert row.last_error.startswith(RATE_TEXT[provider.kind])
    assert row.next_attempt_at > services.clock()  # backed off
    assert dispatch.due_ids(db, services.clock()) == []  # not again straight away
    provider.answer = (200, provider.ok())
    after = later(services, dispatch.backoff(1))
    assert send_sms(db, after, chans) == "sent"
    first, second = (sent_fields(provider, r)["key"] for r in provider.requests)
    assert first == second and sms_row(db).last_error is None


def test_a_template_error_fails_the_notice_and_the_administrator_sees_it(provider, db, services, tmp_path,
                                                                        client, make_staff):
    from casework.accounts.models import Role
    from tests.web.test_admin_routing import login_as

    queue_receipt(db, services)
    provider.answer = TEMPLATE_ERROR[provider.kind]
    assert send_sms(db, services, channels(provider, tmp_path, services)) == "failed"
    row = sms_row(db)
    assert row.status is OutboxStatus.failed and row.attempts == 1
    assert row.last_error.startswith(TEMPLATE_TEXT[provider.kind])
    assert dispatch.due_ids(db, later(services, dispatch.backoff(8)).clock()) == []  # never retried
    login_as(client, db, make_staff("mca", Role.administrator))
    page = client.get("/admin").get_data(as_text=True)
    panel = page[page.index('id="notices-failed"'):page.index('id="retention"')]
    assert f'id="outbox-{row.id}"' in panel and "case_receipt" in panel
    assert TEMPLATE_TEXT[provider.kind].split(": ")[0] in panel  # the provider's code, and its message
    assert PHONE not in page and PHONE[-4:] not in panel  # never the recipient


def test_server_errors_and_an_unreachable_provider_are_transient(provider):
    sms = adapter(provider)
    notice = Notice("outbox:1:k", PHONE, "", "", "case_update", {"case_number": "X"})
    provider.answer = (503, {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary failure of the server.",
                             "RequestId": "A3"} if provider.kind == "aliyun" else
                       {"Response": {"Error": {"Code": "InternalError.Timeout", "Message": "timeout"}, "RequestId": "T3"}})
    with pytest.raises(TransientError):
        sms.send(notice)
    provider.answer = ((200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "A4"})
                       if provider.kind == "aliyun" else
                       (200, {"Response": {"Error": {"Code": "InvalidParameterValue.IncorrectPhoneNumber",
                                                     "Message": "incorrect phone number"}, "RequestId": "T4"}}))
    with pytest.raises(PermanentError, match="MOBILE_NUMBER_ILLEGAL|IncorrectPhoneNumber"):
        sms.send(notice)
    port = provider.server.server_port
    provider.close()
    with pytest.raises(TransientError):
        adapter(provider, f"http://127.0.0.1:{port}").send(notice)
    with pytest.raises(PermanentError, match="no provider template for mediation_ended"):
        sms.send(Notice("outbox:2:k", PHONE, "", "", "mediation_ended", {"case_number": "X"}))


# -- settings -------------------------------------------------------------------------------------

def secrets(**extra) -> dict[str, str]:
    return {"CHANGTONG_SECRET_KEY": "s", "CHANGTONG_PII_KEY": new_key(), "CHANGTONG_QUERY_PEPPER": new_key(),
            "CHANGTONG_SMTP_HOST": "mail.example.org", **extra}


def all_templates() -> str:
    from casework.notify.providers import sms_templates

    return ",".join(f"{t}=SMS_{i}" for i, t in enumerate(sms_templates(), 100))


def test_the_provider_is_chosen_by_settings_and_checked_at_start():
    aliyun = Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="aliyun", CHANGTONG_SMS_ACCESS_KEY_ID=AK_ID,
                                       CHANGTONG_SMS_ACCESS_KEY_SECRET=AK_SECRET, CHANGTONG_SMS_SIGN_NAME="某市12345",
                                       CHANGTONG_SMS_TEMPLATES=all_templates()))
    assert aliyun.notice_problem() is None  # a provider counts as the SMS channel
    assert AK_SECRET not in repr(aliyun)
    sms = sms_channel(aliyun)
    assert isinstance(sms, AliyunSms) and sms.sign_name == "某市12345" and sms.templates["case_receipt"] == "SMS_100"
    tencent = Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="tencent", CHANGTONG_SMS_ACCESS_KEY_ID=TC_ID,
                                        CHANGTONG_SMS_ACCESS_KEY_SECRET=TC_KEY, CHANGTONG_SMS_SDK_APP_ID=APP_ID,
                                        CHANGTONG_SMS_TEMPLATES=all_templates()))
    assert isinstance(sms_channel(tencent), TencentSms)
    with pytest.raises(SettingsError, match="CHANGTONG_SMS_SDK_APP_ID"):
        Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="tencent", CHANGTONG_SMS_ACCESS_KEY_ID=TC_ID,
                                  CHANGTONG_SMS_ACCESS_KEY_SECRET=TC_KEY, CHANGTONG_SMS_TEMPLATES=all_templates()))
    with pytest.raises(SettingsError, match="no template code for .*case_update"):
        Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="aliyun", CHANGTONG_SMS_ACCESS_KEY_ID=AK_ID,
                                  CHANGTONG_SMS_ACCESS_KEY_SECRET=AK_SECRET,
                                  CHANGTONG_SMS_TEMPLATES="case_receipt=SMS_1"))
    with pytest.raises(SettingsError, match="no notice template 'receipt'"):
        Settings.from_env(secrets(CHANGTONG_SMS_TEMPLATES="receipt=SMS_1"))
    with pytest.raises(SettingsError, match="one of aliyun, tencent, http"):
        Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="yunpian"))
    with pytest.raises(SettingsError, match="CHANGTONG_SMS_URL"):
        Settings.from_env(secrets(CHANGTONG_SMS_PROVIDER="http"))
    plain = Settings.from_env(secrets())
    assert sms_channel(plain) is None and "CHANGTONG_SMS_URL" in plain.notice_problem()


def test_every_sms_notice_has_its_variables_from_its_payload():
    """A provider template's standing variables come from the notice's payload (the placeholders of
    the platform's own text but the site's address, which the provider's approved template writes
    out, docs/operations.md); an operator may list more of them (the invitation's body and answer
    date), never one the payload lacks."""
    from casework.notify.providers import NEWER, VARIABLES, known_variables, sms_templates
    from casework.notify.templates import SITE, placeholders

    for template in (*sms_templates(), *NEWER):
        assert set(known_variables(template)) == set(placeholders(template)) - {SITE}, template
        assert set(variables(template)) <= set(known_variables(template)), template
    # the lists operators had their templates approved against, exactly
    assert VARIABLES["respondent_invite"] == ("case_number", "respondent_code")
    assert VARIABLES["mediation_session"] == ("case_number", "session_time", "place")


def test_the_notice_texts_page_says_sms_use_the_providers_templates(settings, db, services, client, make_staff):
    """An administrator editing an SMS text learns that a provider sends its approved template."""
    from dataclasses import replace

    from casework.accounts.models import Role
    from tests.web.test_admin_routing import login_as
    from web.app import create_app

    login_as(client, db, make_staff("mca", Role.administrator))
    assert 'id="sms-provider"' not in client.get("/admin/notice-templates").get_data(as_text=True)
    with_aliyun = replace(settings, sms_provider="aliyun", sms_access_key_id=AK_ID, sms_access_key_secret=AK_SECRET,
                          sms_templates=tuple(TEMPLATES.items()))
    app = create_app(with_aliyun, database=db, services=Services(
        settings=with_aliyun, cipher=services.cipher, files=services.files, clock=services.clock))
    other = app.test_client()
    login_as(other, db, make_staff("mca", Role.administrator))
    page = other.get("/admin/notice-templates").get_data(as_text=True)
    assert 'id="sms-provider"' in page and "阿里云短信" in page
