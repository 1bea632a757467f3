"""Issue 17, item 1: without CHANGTONG_SMS_URL / CHANGTONG_SMTP_HOST the notices (a phone
number or e-mail address, a query code) were written silently to plain files that retention
never deleted. Now the file sink is for development only: the web and the worker refuse to
start without both channels unless CHANGTONG_DEV_NOTICE_FILES=1; the files are encrypted with
the personal-data key; the retention sweep deletes them after a week. docs/security.md names
these tests."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from casework.context import Services
from casework.notify.channels import FILE_DAYS, FileSink, Notice
from casework.notify.dispatch import channels_for
from casework.retention.operations import erase_expired
from casework.settings import SettingsError
from web.cli.notices import notices_command

ROOT = Path(__file__).resolve().parents[2]
PHONE, CODE = "13912345678", "K7Q2-M9XD-4TPA-8HRC"


def _env(settings, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHANGTONG_", "REDIS_URL"))}
    env.update({"DATABASE_URL": settings.database_url, "CHANGTONG_DATA_DIR": str(settings.data_dir),
                "CHANGTONG_SECRET_KEY": settings.secret_key,
                "CHANGTONG_PII_KEY": base64.urlsafe_b64encode(settings.pii_keys[0]).decode(),
                "CHANGTONG_QUERY_PEPPER": base64.urlsafe_b64encode(settings.query_pepper).decode(),
                "PYTHON_DOTENV_DISABLED": "1", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


@pytest.mark.parametrize("module", ["web.wsgi", "workers.main"])
def test_the_web_and_the_worker_refuse_to_start_without_a_real_channel(settings, module):
    refused = subprocess.run([sys.executable, "-c", f"import {module}"], env=_env(settings), cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "CHANGTONG_SMS_URL and CHANGTONG_SMTP_HOST not set" in refused.stderr
    assert "CHANGTONG_DEV_NOTICE_FILES=1" in refused.stderr  # says what to do
    started = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                             env=_env(settings, CHANGTONG_DEV_NOTICE_FILES="1"), timeout=120)
    assert started.returncode == 0, started.stderr
    configured = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True,
                                text=True, timeout=120,
                                env=_env(settings, CHANGTONG_SMS_URL="http://127.0.0.1:9/sms",
                                         CHANGTONG_SMTP_HOST="127.0.0.1"))
    assert configured.returncode == 0, configured.stderr


def test_the_worker_never_falls_back_to_files_silently(services):
    production = Services(settings=replace(services.settings, testing=False), cipher=services.cipher,
                          files=services.files, clock=services.clock)
    with pytest.raises(SettingsError, match="CHANGTONG_DEV_NOTICE_FILES"):
        channels_for(production)
    half = Services(settings=replace(production.settings, sms_url="http://127.0.0.1:9/sms"),
                    cipher=services.cipher, files=services.files, clock=services.clock)
    with pytest.raises(SettingsError, match="CHANGTONG_SMTP_HOST not set"):
        channels_for(half)  # e-mail would still have gone to files


def test_notice_files_hold_no_phone_number_or_code_in_clear(tmp_path, services):
    sink = FileSink(tmp_path / "sms", services.cipher)
    sink.send(Notice(key="outbox:1:receipt", recipient=PHONE, subject="", body=f"查询码 {CODE}"))
    [path] = list((tmp_path / "sms").iterdir())
    raw = path.read_bytes()
    assert PHONE.encode() not in raw and CODE.encode() not in raw and "查询码".encode() not in raw
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert sink.delivered() == [{"to": PHONE, "subject": "", "body": f"查询码 {CODE}", "key": "outbox_1_receipt"}]


def test_retention_deletes_notice_files_after_a_week(db, services):
    sink_dir = services.settings.notice_dir / "sms"
    sink = FileSink(sink_dir, services.cipher)
    for key in ("outbox:901:old", "outbox:902:new"):
        sink.send(Notice(key=key, recipient=PHONE, subject="", body=CODE))
    old = sink_dir / "outbox_901_old.notice"
    stamp = services.clock().timestamp() - (FILE_DAYS + 1) * 86400
    os.utime(old, (stamp, stamp))
    try:
        result = erase_expired(db, services)
        assert result.notice_files >= 1 and not old.exists()
        assert (sink_dir / "outbox_902_new.notice").exists()
    finally:
        for p in sink_dir.glob("outbox_90*"):
            p.unlink()


def test_the_notices_command_prints_them_decrypted(app, services):
    sink = FileSink(services.settings.notice_dir / "sms", services.cipher)
    sink.send(Notice(key="outbox:903:cli", recipient=PHONE, subject="", body=f"查询码 {CODE}"))
    try:
        # the command on the tests' own app: a second app would take over the limiter's database
        out = app.test_cli_runner().invoke(notices_command, ["--last", "50"])
        assert out.exit_code == 0 and PHONE in out.output and CODE in out.output
    finally:
        (services.settings.notice_dir / "sms" / "outbox_903_cli.notice").unlink()
