"""The production entry point compiles every page template before gunicorn forks (issue 18):
no worker pays the compilation on its first request for a page."""
import os
import subprocess
import sys
from pathlib import Path

from casework.settings import new_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_wsgi_app_starts_with_every_template_compiled(tmp_path):
    env = {**os.environ, "CHANGTONG_DATA_DIR": str(tmp_path), "CHANGTONG_DATABASE_URL": f"sqlite:///{tmp_path}/c.db",
           "CHANGTONG_SECRET_KEY": new_key(), "CHANGTONG_PII_KEY": new_key(), "CHANGTONG_IDENTITY_KEY": new_key(),
           "CHANGTONG_QUERY_PEPPER": new_key(), "CHANGTONG_DEV_NOTICE_FILES": "1"}
    code = ("from web.wsgi import app\n"
            "env = app.jinja_env\n"
            "pages = [n for n in env.list_templates() if n.endswith('.html')]\n"
            "cached = {key[1] for key in env.cache.keys()}\n"
            "print(len(pages), len([p for p in pages if p in cached]), 'public/file.html' in cached)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    pages, cached, form = out.stdout.split()
    assert int(pages) > 50 and cached == pages and form == "True"
