"""Tests read the SMS verification code (issue 19) as the notice worker would send it: the last
``verify_code`` notice queued in the outbox to a number, decrypted with the app's keys."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from casework.notify.models import OutboxChannel, OutboxMessage
from casework.notify.queue import recipient_hash

VERIFICATION = re.compile(r'name="verification_id" value="([^"]*)"')


def last_code(database, services, phone: str = "13800138000") -> str | None:
    with database.session_scope(write=False) as s:
        blob = s.scalar(select(OutboxMessage.payload_enc).where(
            OutboxMessage.template == "verify_code",
            OutboxMessage.recipient_hash == recipient_hash(services, OutboxChannel.sms, phone),
        ).order_by(OutboxMessage.id.desc()).limit(1))
    return None if blob is None else json.loads(services.cipher.decrypt(blob, "outbox.payload"))["code"]


def app_code(app, phone: str = "13800138000") -> str | None:
    with app.app_context():
        from web.requestdb import database, services

        return last_code(database(), services(), phone)


def post_filing(client, url, data, **kw):
    """Post a filing form as a person does: when the form asks for the code sent to the phone
    given, read it and send the form again with it (the staged files stay staged); a filing
    that went through answers 303 to its receipt, which is followed as a browser follows it."""
    resp = to_code_step(client, client.post(url, data=data, **kw))
    found = VERIFICATION.search(resp.get_data(as_text=True))
    if resp.status_code == 200 and found is not None:
        again = {k: v for k, v in data.items() if k != "attachments"}
        again.update(verification_id=found.group(1),
                     verify_code=app_code(client.application, data.get("complainant.phone", "")))
        resp = client.post(url, data=again, **kw)
    return to_receipt(client, resp)


def to_code_step(client, resp):
    """The form with the SMS code's box a code's sending leads to: its POST answers 303 See Other
    to the form's GET address with the form's draft (``?draft=``), read with a GET as a browser
    reads it; any other answer as it is."""
    where = resp.headers.get("Location", "") if resp.status_code == 303 else ""
    if "draft=" not in where:
        return resp
    return client.get(where)


def to_receipt(client, resp):
    """The receipt a filing's 303 See Other leads to, read with a GET as a browser reads it (the
    answer's ``request.path`` is the receipt's address); any other answer as it is."""
    where = resp.headers.get("Location", "") if resp.status_code == 303 else ""
    if "/receipt/" not in where:
        return resp
    return client.get(where)


def notice_folder_code(app, phone: str) -> str | None:
    """The code as a developer reads it under `make run`: the outbox sent by the worker's own
    dispatch (casework.notify.dispatch.dispatch_due, run here in-process) to the development
    notice folder, whose encrypted files are read back as `changtong notices` reads them."""
    from casework.notify.channels import FileSink
    from casework.notify.dispatch import dispatch_due

    with app.app_context():
        from web.requestdb import database, services

        svc = services()
        dispatch_due(database(), svc)
        sent = FileSink(svc.settings.notice_dir / "sms", svc.cipher).delivered()
    digits = re.sub(r"\D", "", phone)
    mine = sorted((int(n["key"].split("_")[1]), n["body"]) for n in sent  # newest outbox id last
                  if re.sub(r"\D", "", n["to"]) == digits)
    codes = [m.group(1) for _, body in mine if (m := re.search(r"\b(\d{6})\b", body))]
    return codes[-1] if codes else None
