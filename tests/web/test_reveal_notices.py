"""Who is told of a reveal of a report's identity: the custodian of a request waiting for them,
the handler who asked of the decision and of what an approval has left. On the desk (a count in
the bar, the handler's list) and by e-mail to the unit's mailbox (the case number only: never
the reporter's identity, the reason or the note)."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.notify.models import OutboxChannel, OutboxMessage
from casework.notify.templates import render
from casework.privacy.models import RevealRequest
from casework.registry.models import Unit
from tests.web.test_admin_routing import login_as

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
IDENTITY = {"name": "李四", "phone": "13900139000", "email": "li.si@example.cn", "id_number": "11010519491231002X"}
REASON = "需要联系举报人核实收费凭证的来源"
NOTE = "同意，仅限核实收费凭证"
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def report(file_case):
    return file_case(type="report", category="illegal_fees", complainant=dict(IDENTITY)).case_number


@pytest.fixture
def staff(make_staff):
    return {"handler": make_staff("miit", Role.handler), "custodian": make_staff("miit", Role.custodian),
            "other": make_staff("miit", Role.handler)}


def signed_in(app, db, actor):
    client = app.test_client()
    login_as(client, db, actor)
    return client


def page(client, path="/desk/reveals/mine", **kw) -> str:
    resp = client.get(path, headers=ZH, **kw)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.get_data(as_text=True)


def mails(db, services, template):
    """The outbox's e-mails of this template: (recipient, payload, rendered subject and body in both languages)."""
    with db.session_scope(write=False) as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.template == template)))
        out = []
        for m in rows:
            payload = json.loads(services.cipher.decrypt(m.payload_enc, "outbox.payload"))
            texts = [part for locale in ("zh_CN", "en") for part in render(template, locale, payload)]
            out.append((m.channel, services.cipher.decrypt_text(m.recipient_enc, "outbox.recipient"), payload,
                        "\n".join(texts)))
        return out


def ask(app, db, handler, number):
    csrf = CSRF.search(page(handler, f"/desk/cases/{number}")).group(1)
    resp = handler.post(f"/desk/cases/{number}/reveal-request", data={"csrf_token": csrf, "reason": REASON})
    assert resp.status_code == 303


def decide(custodian, decision, note=NOTE):
    html = page(custodian, "/desk/reveals")
    req_id = re.search(r'id="request-(\d+)"', html).group(1)
    resp = custodian.post(f"/desk/reveals/{req_id}", data={"csrf_token": CSRF.search(html).group(1),
                                                           "decision": decision, "note": note})
    assert resp.status_code == 303
    return int(req_id)


def assert_nothing_personal(text: str, number: str):
    assert number in text
    for secret in (*IDENTITY.values(), "139****9000", REASON, NOTE, "协会以评比为名"):
        assert secret not in text, secret


def test_the_custodian_is_told_of_a_request_and_the_handler_of_the_approval(app, db, services, report, staff):
    number = report
    with db.session_scope(write=False) as s:
        mailbox = s.scalar(select(Unit.notice_email).join(Case, Case.unit_id == Unit.id).where(Case.number == number))
    assert mailbox
    custodian, handler = signed_in(app, db, staff["custodian"]), signed_in(app, db, staff["handler"])
    # nothing waits: no count beside the custodian's link, no list in the handler's bar
    quiet = page(custodian, "/desk/reveals")
    assert "nav-reveals" in quiet and 'id="reveals-waiting"' not in quiet
    assert "nav-my-reveals" not in page(handler, f"/desk/cases/{number}")

    ask(app, db, handler, number)
    # the unit's mailbox is told which case waits for its custodian, and nothing more
    [(channel, to, payload, text)] = mails(db, services, "reveal_requested")
    assert channel is OutboxChannel.email and to == mailbox and payload == {"case_number": number}
    assert_nothing_personal(text, number)
    assert "身份保管人" in text and "identity custodian" in text
    # the custodian's bar counts it, on whatever desk page they are
    bar = page(custodian, "/desk/reveals")
    assert re.search(r'id="reveals-waiting">1<', bar) and "待审批" in bar
    assert_nothing_personal(bar[:bar.index('id="main"')], "")
    # the handler who asked has their list: waiting, nothing decided yet
    asked = page(handler, f"/desk/cases/{number}")
    assert "nav-my-reveals" in asked and 'id="my-reveals-news"' not in asked
    mine = page(handler)
    assert number in mine and "等待身份保管人审批" in mine
    # another handler of the unit asked nothing: no list in their bar
    assert "nav-my-reveals" not in page(signed_in(app, db, staff["other"]), f"/desk/cases/{number}")

    req_id = decide(custodian, "approve")
    assert 'id="reveals-waiting"' not in page(custodian, "/desk/reveals")
    [(channel, to, payload, text)] = mails(db, services, "reveal_decided")
    assert to == mailbox and payload == {"case_number": number}
    assert_nothing_personal(text, number)
    assert "24 小时" in text and "已批准" not in text  # the mailbox is told there is an answer, not which
    # the handler's bar says an answer came and what the approval has left (24 hours from the decision)
    bar = page(handler, f"/desk/cases/{number}")
    assert re.search(r'id="my-reveals-news">1<', bar)
    left = re.search(r'id="my-reveals-left">([^<]+)<', bar).group(1)
    assert re.fullmatch(r"剩余 2[34] 小时 \d\d 分钟", left), left
    mine = page(handler)
    item = mine[mine.index(f'id="mine-{req_id}"'):]
    assert "已批准，有效期至" in item and "剩余 2" in item and f'/desk/cases/{number}#reveal' in item
    assert IDENTITY["phone"] not in mine and IDENTITY["name"] not in mine
    handler.set_cookie("lang", "en")
    english = page(handler)
    assert re.search(r"Approved until [0-9-]+ [0-9:]+: 2[34] h \d\d min left\.", english), english
    handler.set_cookie("lang", "zh_CN")

    # two hours before the end: the bar says so
    with db.session_scope() as s:
        s.execute(update(RevealRequest).where(RevealRequest.id == req_id).values(
            decided_at=services.clock() - timedelta(hours=22), expires_at=services.clock() + timedelta(hours=2)))
    left = re.search(r'id="my-reveals-left">([^<]+)<', page(handler, f"/desk/cases/{number}")).group(1)
    assert re.fullmatch(r"剩余 [12] 小时 \d\d 分钟", left), left
    # once it has run out: nothing more to count, and the list says it ended
    with db.session_scope() as s:
        s.execute(update(RevealRequest).where(RevealRequest.id == req_id).values(
            decided_at=services.clock() - timedelta(hours=25), expires_at=services.clock() - timedelta(hours=1)))
    bar = page(handler, f"/desk/cases/{number}")
    assert 'id="my-reveals-news"' not in bar and 'id="my-reveals-left"' not in bar and "nav-my-reveals" in bar
    assert "查看身份的期限已于" in page(handler)


def test_the_handler_is_told_of_a_denial(app, db, services, report, staff):
    number = report
    custodian, handler = signed_in(app, db, staff["custodian"]), signed_in(app, db, staff["handler"])
    ask(app, db, handler, number)
    req_id = decide(custodian, "deny", note="理由不足，请先核实其他线索")
    [(_channel, _to, payload, text)] = mails(db, services, "reveal_decided")
    assert payload == {"case_number": number} and "理由不足" not in text
    bar = page(handler, f"/desk/cases/{number}")
    assert re.search(r'id="my-reveals-news">1<', bar) and 'id="my-reveals-left"' not in bar
    mine = page(handler)
    item = mine[mine.index(f'id="mine-{req_id}"'):]
    assert "未批准" in item and "理由不足，请先核实其他线索" in item


def test_only_a_handler_has_the_list_of_their_own_requests(app, db, staff, make_staff):
    assert signed_in(app, db, staff["custodian"]).get("/desk/reveals/mine").status_code == 403
    assert signed_in(app, db, make_staff("mca", Role.supervisor)).get("/desk/reveals/mine").status_code == 403
    html = page(signed_in(app, db, staff["handler"]))
    assert 'id="no-requests"' in html
