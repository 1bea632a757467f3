"""Where notices go: an SMS gateway and e-mail, behind one small interface.

Delivery is at-least-once from the outbox to the channel, with the outbox message's key as
an idempotency key the channel honours, so that a worker dying between sending and
recording cannot make the complainant receive a notice twice:
- ``FileSink`` (the development backend) writes one encrypted file per message, created
  exclusively: a second attempt finds it there and does nothing;
- ``HttpSmsGateway`` sends the key as ``Idempotency-Key`` (gateways de-duplicate on it);
- ``AliyunSms`` / ``TencentSms`` (casework.notify.providers) send it as OutId / SessionContext,
  so a retry is recognisable in the provider's delivery records;
- ``SmtpEmail`` sets a Message-ID derived from the key (mail systems drop duplicates).
"""
from __future__ import annotations

import email.utils
import json
import os
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path


class TransientError(Exception):
    """Try again later (network, gateway busy)."""


class PermanentError(Exception):
    """Do not try again (invalid number, rejected)."""


@dataclass(frozen=True)
class Notice:
    key: str  # idempotency key
    recipient: str
    subject: str
    body: str
    # the notice template and its payload: what a templated SMS provider sends instead of the body
    template: str = ""
    params: dict = field(default_factory=dict, repr=False)


class FileSink:
    """Development backend: one file per notice under a directory (SMS or e-mail), encrypted
    with the personal-data key (it holds a phone number or address and perhaps a query code):
    ``changtong notices`` prints them. Used only where CHANGTONG_DEV_NOTICE_FILES is set (the
    web and the worker refuse to start without a real channel otherwise, see
    casework.settings.Settings.notice_problem), and the retention sweep deletes files older than
    FILE_DAYS."""

    PURPOSE = "notice.file"
    SUFFIX = ".notice"

    def __init__(self, directory: Path, cipher):
        self.directory, self.cipher = Path(directory), cipher

    def send(self, notice: Notice) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{notice.key.replace(':', '_')}{self.SUFFIX}"
        if path.exists():
            return  # already delivered: the idempotency the real gateways give
        tmp = self.directory / f".{path.name}.{os.getpid()}.tmp"
        plain = json.dumps({"to": notice.recipient, "subject": notice.subject, "body": notice.body},
                           ensure_ascii=False).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.cipher.encrypt(plain, self.PURPOSE))
        try:
            os.link(tmp, path)  # appears whole, and only once
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)

    def delivered(self) -> list[dict]:
        """Every notice in the folder, oldest file name first, decrypted."""
        if not self.directory.exists():
            return []
        return [self.read(p) | {"key": p.name[:-len(self.SUFFIX)]}
                for p in sorted(self.directory.glob(f"*{self.SUFFIX}"))]

    def read(self, path: Path) -> dict:
        """One notice file, decrypted: {"to", "subject", "body"}."""
        return json.loads(self.cipher.decrypt(Path(path).read_bytes(), self.PURPOSE))


# days a development notice file is kept (the retention sweep deletes older ones)
FILE_DAYS = 7


def erase_old_files(directory: Path, now: float, days: int = FILE_DAYS) -> int:
    """Delete development notice files older than ``days`` under ``directory``; how many."""
    gone = 0
    for path in Path(directory).glob(f"*/*{FileSink.SUFFIX}"):
        try:
            if path.stat().st_mtime < now - days * 86400:
                path.unlink()
                gone += 1
        except FileNotFoundError:
            pass
    return gone


class HttpSmsGateway:
    """A JSON-over-HTTP SMS gateway (the shape most Chinese SMS providers' HTTP APIs take)."""

    def __init__(self, url: str, token: str, sign: str = "畅通", timeout: float = 10):
        self.url, self.token, self.sign, self.timeout = url, token, sign, timeout

    def send(self, notice: Notice) -> None:
        body = json.dumps({"phone": notice.recipient, "sign": self.sign, "content": notice.body}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}",
            "Idempotency-Key": notice.key})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            if exc.code in (408, 429) or exc.code >= 500:
                raise TransientError(f"gateway answered {exc.code}") from None
            raise PermanentError(f"gateway refused: {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientError(f"gateway unreachable: {exc.__class__.__name__}") from None


class SmtpEmail:
    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 15):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, notice: Notice) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, notice.recipient, notice.subject
        # RFC 5322 §3.6: a Date, and a Message-ID whose right side is a domain (the sender's); the
        # left side is the outbox key, so a retry after a lost answer carries the same id
        msg["Date"] = email.utils.formatdate(usegmt=True)
        domain = email.utils.parseaddr(self.sender)[1].rpartition("@")[2] or "changtong.invalid"
        msg["Message-ID"] = f"<{notice.key.replace(':', '.')}@{domain}>"
        msg.set_content(notice.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused:
            raise PermanentError("recipient refused") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"smtp: {exc.__class__.__name__}") from None
