"""sqlmap against the public endpoints that take free input, on a throwaway instance.

    .venv/bin/python bench/sqlmap_check.py [--level 3] [--risk 2] [--keep]

Starts the real app under gunicorn (two sync workers, a fresh SQLite database with the demo
registry, fresh keys, a temporary data directory, as bench/intake.py does), files one case,
and runs sqlmap (Debian package `sqlmap`) in batch mode against:

  1. the association type-ahead   GET  /api/v1/associations?q=…&limit=…
  2. the track lookup form        POST /track  (number, code; a fresh CSRF token each request)
  3. the API case lookup          GET  /api/v1/cases/<number>  (the number in the path, X-Query-Code)

The per-number lookup limit is lifted on this instance (a wsgi module in the temporary
directory overrides it): with it, sqlmap would only see 429s and prove nothing. Prints, per
target, whether sqlmap found an injection point; exits 1 if any did. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.intake import Server, prepare_database  # noqa: E402

WSGI = '''from casework.settings import Settings
from web.app import create_app

app = create_app(Settings.from_env(lookup_limit="1000000 per minute"))
'''
FOUND = re.compile(r"identified the following injection point|is vulnerable|appears to be injectable", re.I)


def sqlmap(args: list[str], out: Path, label: str, level: int, risk: int) -> tuple[bool, str]:
    threads = [] if "--csrf-url" in args else ["--threads=4"]  # sqlmap refuses both together
    cmd = ["sqlmap", "--batch", "--flush-session", f"--level={level}", f"--risk={risk}", *threads,
           "--time-sec=2", "--random-agent", "--output-dir", str(out / label), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    log = proc.stdout + proc.stderr
    (out / f"{label}.log").write_text(log)
    return bool(FOUND.search(log)), log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", type=int, default=3)
    parser.add_argument("--risk", type=int, default=2)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("sqlmap") is None:
        print("sqlmap is not installed (apt-get install -y sqlmap)")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="changtong-sqlmap-"))
    server = None
    try:
        env, _url = prepare_database(tmp)
        (tmp / "sqlmap_wsgi.py").write_text(WSGI)
        run_env = {**os.environ, **env, "PYTHONPATH": f"{tmp}:{ROOT}"}
        server = Server("sqlmap", "sqlmap_wsgi:app", tmp, run_env, tmp)
        server.wait_ready("/healthz")
        base = server.base
        body = json.dumps({"type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
                           "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元。",
                           "complainant": {"name": "张三", "phone": "13800138000"}, "privacy_consent": True}).encode()
        req = urllib.request.Request(base + "/api/v1/cases", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            receipt = json.loads(resp.read())
        # the real number and code, so that the base request succeeds (sqlmap stops on a 404 base
        # page) and an injection that changed the query would change the answer
        number, code = receipt["case_number"], receipt["query_code"]
        targets = {
            "associations": ["-u", f"{base}/api/v1/associations?q=%E5%8D%8F%E4%BC%9A&limit=5", "-p", "q,limit"],
            "track_form": ["-u", f"{base}/track", "--data", f"csrf_token=x&number={number}&code={code}",
                           "-p", "number,code", "--csrf-token", "csrf_token", "--csrf-url", f"{base}/track"],
            "api_case": ["-u", f"{base}/api/v1/cases/{number}*", "--headers", f"X-Query-Code: {code}*"],
        }
        found_any = False
        print(f"sqlmap {subprocess.run(['sqlmap', '--version'], capture_output=True, text=True).stdout.strip()} "
              f"at level {args.level}, risk {args.risk}, against {base}")
        for label, target in targets.items():
            found, log = sqlmap(target, tmp, label, args.level, args.risk)
            found_any |= found
            requests = re.findall(r"(\d+) HTTP\(s\) requests", log)
            tail = [ln for ln in log.splitlines() if "all tested parameters do not appear to be injectable" in ln
                    or "injection point" in ln or "[CRITICAL]" in ln]
            print(f"  {label:13} {'FOUND an injection point' if found else 'nothing found'}"
                  f"{' (' + requests[-1] + ' requests)' if requests else ''}")
            for ln in tail[:3]:
                print(f"      {ln.strip()[:160]}")
        server_errors = sum(1 for ln in server.log.read_text(errors="replace").splitlines() if "Traceback" in ln)
        print(f"server tracebacks during the run: {server_errors}")
        if args.keep:
            print(f"logs kept in {tmp}")
        return 1 if found_any else 0
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
