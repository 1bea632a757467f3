"""docker-compose.yml, the Dockerfile and .env.example, checked without Docker for the mistakes
that would only show in production: two beats, a worker with -B, a service Docker cannot
health-check, data outside named volumes, a setting the operator is never told about, a key
in the repository, an image running as root or installing unpinned packages, and a compose
file that bench/cluster.py (the proof without Docker) reads differently from what it says."""
from __future__ import annotations

import base64
import binascii
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = [name for name, svc in SERVICES.items() if svc.get("restart", "no") != "no"]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")


def command(name: str) -> list[str]:
    cmd = SERVICES[name]["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def mounts(name: str) -> dict[str, str]:
    """target -> source of the service's volumes"""
    out = {}
    for v in SERVICES[name].get("volumes") or []:
        if isinstance(v, dict):
            out[v["target"]] = v.get("source", "")
        else:
            source, target = v.split(":")[:2]
            out[target] = source
    return out


def example_values() -> dict[str, str]:
    """Every NAME=value line of .env.example, the commented ones too (documented, set elsewhere)."""
    return {m.group(1): m.group(2).strip() for m in
            re.finditer(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE, re.MULTILINE)}


def final_stage(dockerfile: str) -> str:
    return re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[-1]


# -- the services ---------------------------------------------------------------------------------

def test_the_services_of_the_production_stack_are_there():
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(SERVICES)
    assert SERVICES["db"]["image"].startswith("postgres:15") and SERVICES["redis"]["image"].startswith("redis:7")
    for name in APP_SERVICES:  # one image, built from the project's Dockerfile
        assert SERVICES[name]["build"] == "." and SERVICES[name]["image"] == SERVICES["web"]["image"]


def test_exactly_one_beat_and_no_worker_runs_the_schedule():
    runs_beat = [name for name in SERVICES if "command" in SERVICES[name]
                 and command(name)[:1] == ["celery"] and "beat" in command(name)[3:4]]
    assert runs_beat == ["beat"]
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    assert "never scale" in (ROOT / "docker-compose.yml").read_text(encoding="utf-8").lower()
    for name in SERVICES:
        if "command" in SERVICES[name]:
            assert not {"-B", "--beat"} & set(command(name)), f"{name} runs a beat of its own"
    assert command("worker")[:4] == ["celery", "-A", "workers.main", "worker"]
    assert command("beat")[:4] == ["celery", "-A", "workers.main", "beat"]
    # beat's schedule state is kept on a volume of its own
    schedule = command("beat")[command("beat").index("-s") + 1]
    assert any(schedule.startswith(target + "/") for target in mounts("beat"))


def test_every_long_running_service_has_a_healthcheck():
    assert set(LONG_RUNNING) == {"db", "redis", "web", "worker", "beat"}
    for name in LONG_RUNNING:
        hc = SERVICES[name].get("healthcheck") or {}
        assert hc.get("test") and not hc.get("disable"), f"{name} has no healthcheck"
    assert "/readyz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    worker = SERVICES["worker"]["healthcheck"]["test"]
    # $HOSTNAME is only expanded by a shell: CMD-SHELL, not CMD
    assert worker[0] == "CMD-SHELL" and "inspect ping" in worker[1] and "celery@$$HOSTNAME" in worker[1]
    assert "pg_isready" in " ".join(SERVICES["db"]["healthcheck"]["test"])
    assert "ping" in SERVICES["redis"]["healthcheck"]["test"]


def test_the_app_waits_for_a_healthy_database_and_a_finished_migration():
    for name in ("web", "worker", "beat"):
        deps = SERVICES[name]["depends_on"]
        assert deps["db"]["condition"] == deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["restart"] == "no"
    migrate = " ".join(command("migrate"))
    assert "changtong db upgrade" in migrate
    assert re.search(r"CHANGTONG_SEED_DEMO.*then changtong seed-demo", migrate)  # demo data only when asked


def test_data_lives_in_named_volumes():
    declared = set(COMPOSE["volumes"])
    assert mounts("db")["/var/lib/postgresql/data"] == "pgdata"
    for name in ("web", "worker"):
        assert mounts(name)["/data/uploads"] == "uploads"
        assert mounts(name)["/data/search"] == "search"
    assert mounts("worker")["/data/notices"] == "notices"
    for name in SERVICES:
        for target, source in mounts(name).items():
            assert source in declared, f"{name}: {source}:{target} is not a named volume"
    # the image makes the mount points, owned by its user, so new volumes belong to it too
    stage = final_stage(DOCKERFILE)
    for target in ("/data/uploads", "/data/search", "/data/notices", "/data/beat"):
        assert target in stage
    assert re.search(r"chown -R changtong:changtong /data", stage)


def test_app_services_take_their_settings_from_the_env_file():
    for name in APP_SERVICES:
        assert SERVICES[name]["env_file"] == ".env"
        env = SERVICES[name]["environment"]
        assert "@db:5432/" in env["DATABASE_URL"] and env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
    # no value in the compose file is a secret: only substitutions from .env
    for name in SERVICES:
        for key, value in (SERVICES[name].get("environment") or {}).items():
            if re.search(r"KEY|PEPPER|PASSWORD|TOKEN", key):
                assert str(value).startswith("${"), f"{name}: {key} is written into the compose file"
    # the web listens where the healthcheck and the published port expect it
    assert SERVICES["web"]["environment"]["CHANGTONG_BIND"] == "0.0.0.0:8000"
    assert any(str(p).endswith(":8000") for p in SERVICES["web"]["ports"])
    # and the staff's door (gunicorn.conf.py), published on this host only as the public one is
    assert SERVICES["web"]["environment"]["CHANGTONG_STAFF_BIND"] == "0.0.0.0:8001"
    assert all(str(p).startswith("127.0.0.1:") for p in SERVICES["web"]["ports"])
    assert any(str(p).endswith(":8001") for p in SERVICES["web"]["ports"])


def test_compose_substitutes_only_variables_the_env_file_documents():
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)", text))
    assert used and used <= set(example_values()), used - set(example_values())


# -- the env file ---------------------------------------------------------------------------------

class Recording(dict):
    """An environment that remembers every name asked for."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def settings_names() -> set[str]:
    from casework.settings import Settings, new_key

    env = Recording({name: new_key() for name in ("CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY",
                                                 "CHANGTONG_QUERY_PEPPER", "CHANGTONG_IDENTITY_KEY")})
    Settings.from_env(env)
    return env.asked


def module_names() -> set[str]:
    """Settings read straight from os.environ by the app, the workers and gunicorn.conf.py."""
    names = set()
    files = [ROOT / "gunicorn.conf.py"] + [p for d in ("casework", "web", "workers") for p in (ROOT / d).rglob("*.py")]
    for path in files:
        if path.exists():
            names |= set(re.findall(r"environ(?:\.get\(|\[)\s*\"((?:CHANGTONG|WEB|PROMETHEUS|FORWARDED)_[A-Z0-9_]+)\"",
                                    path.read_text(encoding="utf-8")))
    return names - {"CHANGTONG_OWN_METRICS_DIR"}  # gunicorn.conf.py's own bookkeeping


def test_env_example_documents_every_setting():
    names = settings_names()
    assert {"DATABASE_URL", "CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY_OLD", "CHANGTONG_SMTP_HOST"} <= names
    missing = (names | module_names()) - set(example_values())
    assert not missing, f"not in .env.example: {sorted(missing)}"


def decodes_to_a_key(value: str) -> bool:
    """A 32-byte key as `changtong keys` makes them (url-safe base64), or as hex."""
    value = value.strip("'\"")
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return True
    try:
        return len(base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))) == 32
    except (binascii.Error, ValueError):
        return False


def test_env_example_holds_no_key():
    from casework.settings import new_key

    assert decodes_to_a_key(new_key()) and not decodes_to_a_key("")
    for name, value in example_values().items():
        assert not decodes_to_a_key(value), f"{name} in .env.example looks like a real key"
    for name in ("CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY", "CHANGTONG_IDENTITY_KEY", "CHANGTONG_QUERY_PEPPER",
                 "POSTGRES_PASSWORD"):
        assert example_values()[name] == "", f"{name} must be empty in .env.example"


def test_env_example_values_are_ones_the_app_accepts():
    """Copied to .env with the secrets filled in, the settings load (an empty number would not)."""
    from dotenv import dotenv_values

    from casework.settings import Settings, new_key

    env = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    env.update({k: new_key() for k in ("CHANGTONG_SECRET_KEY", "CHANGTONG_PII_KEY", "CHANGTONG_QUERY_PEPPER")})
    s = Settings.from_env(env)
    assert s.max_file_bytes == 10 * 1024 * 1024 and s.sms_url is None and s.search_backend == "whoosh"
    for name in ("outbox_lease_seconds", "dispatch_seconds", "sweep_seconds", "search_seconds", "stats_seconds",
                 "risk_seconds", "retention_seconds"):  # the example says what the defaults are
        assert getattr(s, name) == Settings.__dataclass_fields__[name].default, name
    for name in ("WEB_CONCURRENCY", "CHANGTONG_TIMEOUT"):
        float(env[name])  # gunicorn.conf.py reads them with int() at import: an empty value would stop it


def test_secrets_stay_out_of_git_and_the_image():
    assert re.search(r"^\.env$", (ROOT / ".gitignore").read_text(), re.MULTILINE)
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignore and ".venv" in ignore and "/var" in ignore
    assert not re.search(r"^(ENV|ARG)\b.*(SECRET|PII_KEY|IDENTITY_KEY|PEPPER|PASSWORD)", DOCKERFILE, re.MULTILINE)


# -- the image ------------------------------------------------------------------------------------

def test_the_image_installs_the_pinned_dependencies_and_runs_as_a_user():
    assert re.search(r"^FROM python:3\.11-slim-bookworm|^ARG PYTHON_IMAGE=python:3\.11-slim-bookworm", DOCKERFILE,
                     re.MULTILINE)
    assert re.search(r"pip install --no-cache-dir (-c|-r) requirements\.lock", DOCKERFILE)
    assert re.search(r"pip install --no-cache-dir --no-deps ", DOCKERFILE)
    assert "pybabel compile -d web/translations -D messages" in DOCKERFILE
    stage = final_stage(DOCKERFILE)
    users = re.findall(r"^USER\s+(\S+)", stage, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"CHANGTONG_DATA_DIR=/data\b", stage) and re.search(r"^EXPOSE 8000 8001$", stage, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", stage, re.MULTILINE)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-cjk"):  # WeasyPrint, Chinese PDFs
        assert package in stage


def test_every_runtime_dependency_is_pinned_in_the_lock():
    """The image installs pyproject's dependencies constrained by the lock: each must be there."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = {canonicalize_name(line.split("==")[0]) for line in (ROOT / "requirements.lock").read_text().splitlines()
              if "==" in line}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert {canonicalize_name(Requirement(d).name) for d in deps} <= pinned


def test_the_endpoints_the_healthchecks_ask_exist(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/healthz", "/readyz"} <= rules
    assert (ROOT / "gunicorn.conf.py").exists() and command("web") == ["gunicorn", "-c", "gunicorn.conf.py",
                                                                          "web.wsgi:app"]


# -- bench/cluster.py reads this file as Docker does ---------------------------------------------

def test_the_cluster_runs_what_the_compose_file_says():
    from bench.cluster import Compose, image_env, interpolate

    values = {"POSTGRES_PASSWORD": "pw0123456789", "POSTGRES_USER": "changtong", "POSTGRES_DB": "changtong"}
    compose = Compose(ROOT / "docker-compose.yml", values)
    for name in ("web", "worker", "beat", "migrate"):
        assert compose.command(name) == [interpolate(a, values) for a in command(name)]
    assert compose.environment("web")["DATABASE_URL"] == "postgresql+psycopg://changtong:pw0123456789@db:5432/changtong"
    # $$ stays a literal $ for the container's shell
    assert "${CHANGTONG_SEED_DEMO:-0}" in compose.command("migrate")[-1]
    assert compose.healthcheck("worker")[1].endswith("celery@$HOSTNAME")
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        Compose(ROOT / "docker-compose.yml", {})  # compose refuses to start without it, so does the cluster
    assert image_env(ROOT / "Dockerfile")["CHANGTONG_DATA_DIR"] == "/data"
