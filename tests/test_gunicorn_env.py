"""gunicorn.conf.py reads its settings (CHANGTONG_BIND, WEB_CONCURRENCY, …) from `.env` as the app
does (web/wsgi.py's load_dotenv()): a host install that keeps them in `.env` gets them, and a
variable of the process still wins over the file."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from casework.settings import new_key

ROOT = Path(__file__).resolve().parents[1]


def print_config(directory: Path, **env_extra: str) -> dict[str, str]:
    """`gunicorn --print-config -c gunicorn.conf.py web.wsgi:app` of the config copied into
    ``directory`` (where a `.env` is looked for, as beside the real one in the repository)."""
    conf = directory / "gunicorn.conf.py"
    shutil.copy(ROOT / "gunicorn.conf.py", conf)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CHANGTONG_", "PROMETHEUS_", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "PYTHON_DOTENV"))}
    # --print-config loads the app too (preload): what it needs to start, none of it in the file
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{directory / 'db.sqlite'}",
               CHANGTONG_DATA_DIR=str(directory / "data"), CHANGTONG_DEV_NOTICE_FILES="1",
               CHANGTONG_SECRET_KEY=new_key(), CHANGTONG_PII_KEY=new_key(), CHANGTONG_QUERY_PEPPER=new_key(),
               **env_extra)
    out = subprocess.run([str(Path(sys.executable).with_name("gunicorn")), "--print-config", "-c", str(conf),
                          "web.wsgi:app"], cwd=directory, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in out.stdout.splitlines())}


@pytest.fixture
def with_env_file(tmp_path):
    (tmp_path / ".env").write_text(
        "CHANGTONG_BIND=127.0.0.1:5999\nCHANGTONG_STAFF_BIND=127.0.0.1:5998\nWEB_CONCURRENCY=3\n"
        "CHANGTONG_TIMEOUT=45\nFORWARDED_ALLOW_IPS=10.0.0.5\n", encoding="utf-8")
    return tmp_path


def test_gunicorn_takes_its_settings_from_the_env_file(with_env_file):
    conf = print_config(with_env_file)
    assert conf["bind"] == "['127.0.0.1:5999', '127.0.0.1:5998']"
    assert (conf["workers"], conf["timeout"], conf["forwarded_allow_ips"]) == ("3", "45", "['10.0.0.5']")


def test_the_process_environment_wins_over_the_env_file(with_env_file):
    conf = print_config(with_env_file, CHANGTONG_BIND="127.0.0.1:7001", WEB_CONCURRENCY="1")
    assert conf["bind"] == "['127.0.0.1:7001', '127.0.0.1:5998']" and conf["workers"] == "1"


def test_without_an_env_file_the_defaults(tmp_path):
    conf = print_config(tmp_path)
    assert conf["bind"] == "['127.0.0.1:5000']" and conf["workers"] == "2"
