"""Promise 3: no tracking data. An address sent in X-Forwarded-For and a User-Agent sent
with a report (web form and JSON API, through a real HTTP server) appear in no log line
(every logger at DEBUG, and the server's access log), no database row and no file under
the data directory. The access log format the Makefile deploys names no address, agent or
referrer."""
from __future__ import annotations

import http.cookiejar
import json
import logging
import re
import secrets
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.phone_codes import VERIFICATION, app_code
from tests.security.helpers import CSRF, dump

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2]


class _All(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is kept raw
            self.lines.append(f"{record.msg!r} {record.args!r}")


@pytest.fixture
def server(app):
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def test_an_address_and_an_agent_leave_no_trace(app, db, settings, server, submission_data):
    ip = f"198.51.100.{secrets.randbelow(200) + 20}"
    agent_mark = "uamark" + secrets.token_hex(6)
    ip_mark = "xffmark" + secrets.token_hex(6)
    headers = {"X-Forwarded-For": f"{ip}, {ip_mark}", "X-Real-IP": ip, "Forwarded": f"for={ip}",
               "User-Agent": f"Mozilla/5.0 ({agent_mark})", "Referer": f"https://{ip_mark}.example/"}
    capture = _All()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def call(path, data=None, ctype=None):
            req = urllib.request.Request(server + path, data=data, headers=dict(headers))
            if ctype:
                req.add_header("Content-Type", ctype)
            try:
                with opener.open(req, timeout=30) as resp:
                    return resp.status, resp.read().decode()
            except urllib.error.HTTPError as err:
                return err.code, err.read().decode()

        status, page = call("/file/complaint")
        assert status == 200
        form = {"csrf_token": CSRF.search(page).group(1), "form_token": TOKEN.search(page).group(1),
                "association": "51100000500009247D", "category": "forced_membership",
                "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元。",
                "complainant.name": "张三", "complainant.phone": "13800138000", "privacy_consent": "1"}
        status, asked = call("/file/complaint", urllib.parse.urlencode(form).encode(),
                             "application/x-www-form-urlencoded")
        assert status == 200 and 'name="verification_id"' in asked  # the phone is proved first (issue 19)
        form.update(verification_id=VERIFICATION.search(asked).group(1), verify_code=app_code(app))
        status, receipt = call("/file/complaint", urllib.parse.urlencode(form).encode(),
                               "application/x-www-form-urlencoded")
        assert status in (200, 201) and 'id="query-code"' in receipt, status
        status, body = call("/api/v1/cases", json.dumps(submission_data()).encode(), "application/json")
        assert status == 201, body
        number, code = json.loads(body)["case_number"], json.loads(body)["query_code"]
        assert call(f"/api/v1/cases/{number}")[0] == 404
        status, page = call("/track")
        call("/track", urllib.parse.urlencode({"csrf_token": CSRF.search(page).group(1), "number": number,
                                               "code": code}).encode(), "application/x-www-form-urlencoded")
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)

    marks = (ip, ip_mark, agent_mark)
    logs = "\n".join(capture.lines)
    assert capture.lines, "the access log was captured"
    assert any("POST /api/v1/cases" in line for line in capture.lines), "the access log names the request"
    database = dump(db)
    files = []
    for path in Path(settings.data_dir).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            files += [str(path) for m in marks if m.encode() in data or m.encode("utf-16-le") in data]
    for m in marks:
        assert m not in logs, f"{m} in a log line"
        assert m not in database, f"{m} in the database"
    assert not files, files


def test_the_deployed_access_log_names_no_address_agent_or_referrer():
    # make run, the Dockerfile, docker-compose.yml and bench/cluster.py all start gunicorn with
    # gunicorn.conf.py; its access format (used when CHANGTONG_GUNICORN_ACCESS_LOG=1) is checked
    for launcher in ("Makefile", "Dockerfile", "docker-compose.yml"):
        assert "gunicorn.conf.py" in (ROOT / launcher).read_text(), launcher
    fmt = re.search(r"^access_log_format = '([^']+)'", (ROOT / "gunicorn.conf.py").read_text(), re.M)
    assert fmt, "gunicorn.conf.py sets gunicorn's access log format (its default logs address and agent)"
    for atom in ("%(h)s", "%(a)s", "%(f)s", "%(r)s", "%(q)s", "%(u)s", "i}s", "e}s"):
        assert atom not in fmt.group(1), atom


def test_no_request_data_is_read_for_the_client_address(app):
    # the app is not behind ProxyFix: nothing trusts X-Forwarded-For, and no view reads it
    import web

    sources = "\n".join(p.read_text() for p in Path(web.__file__).parent.rglob("*.py"))
    for needle in ("remote_addr", "X-Forwarded-For", "ProxyFix", "user_agent", "User-Agent", "access_route"):
        assert needle not in sources, needle
