"""The outbox: each notice reaches its person once, carrying no case content."""
import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from casework.context import Services
from casework.notify import dispatch
from casework.notify.channels import FileSink, HttpSmsGateway, Notice, PermanentError, SmtpEmail, TransientError
from casework.notify.models import OutboxMessage, OutboxStatus


def at(services, delta):
    return Services(settings=services.settings, cipher=services.cipher, files=services.files,
                    clock=lambda: services.clock() + delta)


@pytest.fixture
def sink(tmp_path, services):
    return {"sms": FileSink(tmp_path / "sms", services.cipher), "email": FileSink(tmp_path / "email", services.cipher)}


def channels(sink):
    from casework.notify.models import OutboxChannel

    return {OutboxChannel.sms: sink["sms"], OutboxChannel.email: sink["email"]}


def run(db, services, sink):
    return [dispatch.send_message(db, services, mid, channels(sink))
            for mid in dispatch.due_ids(db, services.clock())]


def test_receipt_sms_carries_number_and_code_and_is_sent_once(db, services, file_case, sink):
    r = file_case(complainant={"name": "张三", "phone": "13800138000", "email": "zs@example.cn"})
    assert sorted(run(db, services, sink)) == ["sent", "sent"]
    [sms] = sink["sms"].delivered()
    assert sms["to"] == "13800138000"
    assert r.case_number in sms["body"] and r.query_code in sms["body"]
    assert sink["email"].delivered()[0]["to"] == "zs@example.cn"
    assert run(db, services, sink) == []  # nothing left to send
    with db.session_scope(write=False) as s:
        for m in s.scalars(select(OutboxMessage)):
            assert m.status is OutboxStatus.sent and m.payload_enc is None  # the code is not kept


def test_a_worker_dying_after_taking_a_message_does_not_send_it_twice(db, services, file_case, sink):
    file_case()
    [mid] = dispatch.due_ids(db, services.clock())
    assert dispatch._take(db, mid, services.clock(), services.settings.outbox_lease)  # the worker took it ...
    sink["sms"].send(Notice(f"outbox:{mid}:case:x", "13800138000", "s", "b"))  # ... maybe sent, then died
    assert dispatch.due_ids(db, services.clock()) == []  # leased: nobody else takes it yet
    later = at(services, services.settings.outbox_lease + timedelta(seconds=1))
    with db.session_scope(write=False) as s:
        key = f"outbox:{mid}:{s.get(OutboxMessage, mid).dedupe_key}"
    sink["sms"].directory.joinpath(f"outbox_{mid}_case_x.notice").unlink()
    sink["sms"].send(Notice(key, "13800138000", "s", "b"))  # what the dead worker delivered
    assert run(db, later, sink) == ["sent"]
    assert len(sink["sms"].delivered()) == 1


def test_the_lease_is_the_settings_one(db, services, file_case, sink):
    """CHANGTONG_OUTBOX_LEASE_SECONDS reaches both ways of taking messages, through Settings."""
    from dataclasses import replace

    def short():
        """A 30 s lease, on a clock stopped now: reading it twice on a busy machine made 29 s
        after the take look like 30 (the lease had ended)."""
        now = services.clock()
        return Services(settings=replace(services.settings, outbox_lease_seconds=30), cipher=services.cipher,
                        files=services.files, clock=lambda: now)

    class Dies:  # the worker is killed while sending
        def send(self, notice):
            raise SystemExit

    file_case()
    [mid] = dispatch.due_ids(db, services.clock())
    taking = short()
    assert dispatch._take(db, mid, taking.clock(), taking.settings.outbox_lease)
    assert dispatch.due_ids(db, at(taking, timedelta(seconds=29)).clock()) == []
    assert dispatch.due_ids(db, at(taking, timedelta(seconds=31)).clock()) == [mid]
    assert run(db, at(taking, timedelta(seconds=31)), sink) == ["sent"]
    file_case()
    [other] = dispatch.due_ids(db, services.clock())
    taking = short()
    with pytest.raises(SystemExit):
        dispatch.send_batch(db, taking, [other], {k: Dies() for k in channels(sink)})
    assert dispatch.due_ids(db, at(taking, timedelta(seconds=29)).clock()) == []
    assert dispatch.due_ids(db, at(taking, timedelta(seconds=31)).clock()) == [other]


def test_transient_failures_back_off_then_succeed(db, services, file_case, sink):
    file_case()

    class Flaky:
        calls = 0

        def send(self, notice):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise TransientError("gateway busy")
            sink["sms"].send(notice)

    from casework.notify.models import OutboxChannel

    chans = {OutboxChannel.sms: Flaky(), OutboxChannel.email: sink["email"]}
    [mid] = dispatch.due_ids(db, services.clock())
    assert dispatch.send_message(db, services, mid, chans) == "pending"
    assert dispatch.due_ids(db, services.clock()) == []  # backing off
    assert dispatch.send_message(db, at(services, timedelta(minutes=2)), mid, chans) == "sent"
    with db.session_scope(write=False) as s:
        m = s.get(OutboxMessage, mid)
        assert m.attempts == 2 and m.status is OutboxStatus.sent


class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Gateway.received.append((self.headers["Idempotency-Key"], body))
        self.send_response(_Gateway.status)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_http_sms_gateway_sends_the_idempotency_key_and_classifies_failures():
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gw = HttpSmsGateway(f"http://127.0.0.1:{server.server_port}/send", "t0ken")
        gw.send(Notice("outbox:1:k", "13800138000", "subj", "【畅通】您的案件有新进展"))
        assert _Gateway.received[-1] == ("outbox:1:k", {"phone": "13800138000", "sign": "畅通",
                                                       "content": "【畅通】您的案件有新进展"})
        _Gateway.status = 503
        with pytest.raises(TransientError):
            gw.send(Notice("outbox:2:k", "13800138000", "s", "b"))
        _Gateway.status = 400
        with pytest.raises(PermanentError):
            gw.send(Notice("outbox:3:k", "1", "s", "b"))
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(TransientError):
        HttpSmsGateway(f"http://127.0.0.1:{server.server_port}/send", "t").send(Notice("k", "1", "s", "b"))


def test_smtp_email_through_a_real_smtp_server():
    from aiosmtpd.controller import Controller

    class Handler:
        messages = []

        async def handle_DATA(self, server, session, envelope):
            Handler.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        SmtpEmail("127.0.0.1", port, "noreply@changtong.example").send(
            Notice("outbox:9:case:1:x", "zs@example.cn", "您的案件有新进展", "【畅通】您的案件 TS1 有新进展"))
    finally:
        controller.stop()
    [env] = Handler.messages
    assert env.rcpt_tos == ["zs@example.cn"]
    text = env.content.decode()
    # RFC 5322 §3.6: a Date, and a Message-ID whose right side is a domain (strict servers refused
    # "@changtong"); the same outbox key gives the same id on a retry
    assert "Message-ID: <outbox.9.case.1.x@changtong.example>" in text
    assert re.search(r"^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} (GMT|-0000|\+0000)\r?$", text, re.M), text


def test_notices_to_the_complainant_carry_no_case_content(db, services, file_case, make_staff, sink):
    from casework.accounts.models import Role
    from casework.cases.models import Case
    from casework.workflow.machine import perform

    r = file_case(title="强制入会并收取会费", description="协会要求我公司必须入会并交两万元会费。")
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, r.case_id), "accept")
    run(db, services, sink)
    bodies = [m["body"] for m in sink["sms"].delivered()]
    assert len(bodies) == 2
    update = [b for b in bodies if r.query_code not in b][0]
    assert r.case_number in update
    for secret in ("强制入会", "会费", "两万", "工业和信息化部", "张三"):
        assert secret not in update


def test_a_batch_is_taken_and_recorded_together_and_survives_a_crash(db, services, file_case, sink):
    for i in range(5):
        file_case(complainant={"name": "张三", "phone": f"1380013800{i}"})
    ids = dispatch.due_ids(db, services.clock())
    assert dispatch.send_batch(db, services, ids, channels(sink)) == {"sent": 5, "skipped": 0}
    assert dispatch.send_batch(db, services, ids, channels(sink)) == {"skipped": 5}
    assert len(sink["sms"].delivered()) == 5


def test_the_receipt_sms_says_where_to_check_the_case():
    """A caller whose hotline filed the case through the API has never seen the site: the receipt
    gives the address of the status page beside the number and the code."""
    from casework.notify.templates import render

    values = {"case_number": "TS2026120712345", "query_code": "ABCD-EFGH-JKMN-PQRS"}
    _subject, text = render("case_receipt", "zh_CN", values, site="https://ct.example.org")
    assert "TS2026120712345" in text and "ABCD-EFGH-JKMN-PQRS" in text and "在 https://ct.example.org/track 查询" in text
    _subject, text = render("case_receipt", "en", values, site="https://ct.example.org")
    assert "check the status at https://ct.example.org/track." in text


def test_every_sms_that_sends_the_complainant_to_the_site_says_where_it_is(db, services, file_case, make_staff, sink):
    """The news SMS and the written-notice SMS send the complainant to the status page: they give
    its address (CHANGTONG_BASE_URL), as the receipt does, not only "check with your number and
    code" (a phone's link is one tap; the receipt may be long gone)."""
    from casework.accounts.models import Role
    from casework.cases.models import Case
    from casework.workflow.machine import perform

    r = file_case()
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, r.case_id), "accept")  # its 受理告知书: case_document
    with db.session_scope() as s:
        perform(s, services, handler, s.get(Case, r.case_id), "request_info",
                public_text="请补充协会收费的票据。")  # news without a document: case_update
    run(db, services, sink)
    track = f"{services.settings.base_url}/track"
    assert services.settings.base_url.startswith("http")
    bodies = [m["body"] for m in sink["sms"].delivered() if r.query_code not in m["body"]]
    assert len(bodies) == 2
    document = [b for b in bodies if "书面告知" in b]
    update = [b for b in bodies if "书面告知" not in b]
    assert document and update
    assert f"在 {track} 查看和下载" in document[0]
    assert f"在 {track} 查询" in update[0]
    for body in bodies:
        assert r.case_number in body and "$" not in body


def test_the_mediation_ended_text_tells_each_party_where_to_look():
    """The same SMS goes to both parties of a mediation: the applicant's query code works on the
    status page, the respondent's answer code only on the respondent's page, so it names both
    (it said "check with your number", and the respondent's code was refused on /track)."""
    from casework.notify.templates import render

    _subject, text = render("mediation_ended", "zh_CN", {"case_number": "TJ2026120612345"})
    assert "TJ2026120612345" in text and "查询码" in text and "“查询案件”" in text
    assert "答复码" in text and "“答复调解邀请”" in text
    _subject, text = render("mediation_ended", "en", {"case_number": "TJ2026120612345"}, site="https://ct.example.org")
    assert "query code" in text and "answer code" in text and "'Answer a mediation request'" in text
    assert "'Check a case' page (https://ct.example.org/track)" in text
    assert "(https://ct.example.org/respond)" in text  # the respondent may know no other way to the site


def test_every_notice_text_that_gives_the_sites_address_must_keep_it():
    """A text to a party gives the address where to look ($site): the respondent has never seen the
    site, nor has a caller whose hotline filed the case. Every template whose default text gives it
    requires it, and an administrator's text without it is refused, in either language."""
    from string import Template

    from casework.notify.templates import LOCALES, REQUIRED, SITE, TEMPLATES, check_text

    with_site = {name for name, texts in TEMPLATES.items()
                 if any(SITE in Template(body).get_identifiers() for _, body in texts.values())}
    assert {"case_receipt", "case_update", "case_document", "respondent_invite", "mediation_ended",
            "mediation_session"} <= with_site
    for name in with_site:
        assert SITE in REQUIRED[name], name
        for locale in LOCALES:
            subject, body = TEMPLATES[name][locale]
            assert check_text(name, subject, body) == ((subject, body), {}), (name, locale)
            checked, errors = check_text(name, subject, body.replace("$site", "https://example.org"))
            assert checked is None and "$site" in str(errors["body"][0].params), (name, locale)


def test_the_session_notice_must_keep_its_case_time_and_place():
    from casework.notify.templates import REQUIRED, check_text

    assert REQUIRED["mediation_session"] == {"case_number", "session_time", "place", "site"}
    checked, errors = check_text("mediation_session", "调解会议", "【调解中心】案件 $case_number 请留意 $site/track。")
    assert checked is None and "$place, $session_time" in str(errors["body"][0].params)


def test_a_text_saved_without_a_placeholder_it_now_must_keep_is_set_aside(db, caplog):
    """An override saved before its template required the site's address is not used: the default
    text is sent (and listed), and only the template and language are logged."""
    import logging

    from casework.notify.templates import NoticeTemplate, load_overrides, render, template_row

    with db.session_scope() as s:
        s.add(NoticeTemplate(template="respondent_invite", locale="en", subject="Mediation",
                             body="Case $case_number, your code $respondent_code."))
        s.add(NoticeTemplate(template="case_update", locale="zh_CN", subject="新进展",
                             body="【畅通】案件 $case_number 有新消息，请到 $site/track 查看。"))
    caplog.set_level(logging.WARNING)
    with db.session_scope(write=False) as s:
        overrides = load_overrides(s)
        row = template_row(s, "respondent_invite", "en")
    assert ("respondent_invite", "en") not in overrides and ("case_update", "zh_CN") in overrides
    assert not row.overridden and "$site/respond" in row.body
    body = render("respondent_invite", "en", {"case_number": "TJ1", "respondent_code": "AB"}, overrides,
                  site="https://ct.example.org")[1]
    assert "https://ct.example.org/respond" in body
    assert "respondent_invite:en" in caplog.text and "your code" not in caplog.text
