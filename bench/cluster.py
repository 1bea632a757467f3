"""The production topology of docker-compose.yml, without Docker: proof that it works.

    .venv/bin/python -m bench.cluster [--web-nodes 2] [--workers 2] [--keep]     (make cluster)

It reads docker-compose.yml, the Dockerfile and .env.example and starts, as local processes,
what ``docker compose up`` starts, from the same commands and the same settings: a PostgreSQL
cluster of its own (initdb on a free port, with the db service's user, password and
database), a redis-server, the one-shot migrate command, N gunicorn web nodes (the web
service's command, each bound to a port of its own), M Celery workers (the worker service's
command) and exactly one beat (the beat service's command). Each process gets what its
container would: the image's ENV, the env file (.env.example with fresh secrets from
``changtong keys``), the service's ``environment:``, with the service names db and redis
mapped to 127.0.0.1 and their ports, /data to a temporary directory, tmpfs mounts to
directories of their own. The one addition: each worker gets ``-n celery@worker-N``, since
local processes share one host name where containers have one each. The migrate step loads
the demo registry (CHANGTONG_SEED_DEMO=1) unless ``env`` says otherwise.

``run_scenario`` then goes across the nodes: a complaint filed through node 1 (JSON API and
the phone form), handled through node 2 with a staff API token (accept, reply) while the
complainant follows it on node 1 with the query code; a second case made overdue (its
deadline moved into the past, as a clock jump) is flagged and put under supervision (督办)
by the beat-driven sweep exactly once; every notice is written once to the file sink and the
outbox is empty; /readyz and the compose healthchecks pass on every process.

Everything is stopped and the temporary directory removed at the end, whatever happens
(``keep=True`` keeps the directory). bench/production.py builds on ``Cluster``.
"""
from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ comes first on the path and bench/queue.py would shadow the stdlib's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent  # the virtualenv's gunicorn, celery, changtong
APP_DIR = "/app"  # the image's WORKDIR: the repository here
DATA_DIR = "/data"  # the image's CHANGTONG_DATA_DIR: a temporary directory here


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# -- docker-compose.yml and the Dockerfile, read as Docker reads them ----------------------------

_VAR = re.compile(r"\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Compose's variable substitution: ``$$`` is a literal ``$``; ``${VAR}``, ``$VAR``,
    ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}`` and ``${VAR?error}``."""
    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        expr = m.group(1) if m.group(1) is not None else m.group(2)
        name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", expr)
        if name is None:
            raise ValueError(f"bad substitution {m.group(0)!r}")
        var, rest = name.group(0), expr[name.end():]
        value = values.get(var)
        if rest.startswith(":-"):
            return value if value else interpolate(rest[2:], values)
        if rest.startswith("-"):
            return value if value is not None else interpolate(rest[1:], values)
        if rest.startswith(":?") or rest.startswith("?"):
            if (value if rest.startswith(":?") else value is not None):
                return value
            raise ValueError(f"{var}: {rest.lstrip(':?') or 'required'}")
        if rest:
            raise ValueError(f"unsupported substitution {m.group(0)!r}")
        return value or ""

    return _VAR.sub(sub, text)


def _interpolate_tree(node, values):
    if isinstance(node, str):
        return interpolate(node, values)
    if isinstance(node, list):
        return [_interpolate_tree(n, values) for n in node]
    if isinstance(node, dict):
        return {k: _interpolate_tree(v, values) for k, v in node.items()}
    return node


class Compose:
    """The services of a compose file (YAML merge keys resolved, variables substituted from
    the env file, as `docker compose` does with the project's .env)."""

    def __init__(self, path: Path = COMPOSE_FILE, values: Mapping[str, str] | None = None):
        import yaml

        self.path = path
        self.raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.services: dict[str, dict] = _interpolate_tree(self.raw["services"], dict(values or {}))

    def command(self, service: str) -> list[str]:
        cmd = self.services[service]["command"]
        return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]

    def environment(self, service: str) -> dict[str, str]:
        env = self.services[service].get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {k: "" if v is None else str(v) for k, v in env.items()}

    def env_files(self, service: str) -> list[str]:
        files = self.services[service].get("env_file") or []
        return [files] if isinstance(files, str) else list(files)

    def healthcheck(self, service: str) -> list[str] | None:
        """The test as ["CMD", ...] or ["CMD-SHELL", "..."]; None when there is none."""
        hc = self.services[service].get("healthcheck") or {}
        test = hc.get("test")
        if hc.get("disable") or not test or test == ["NONE"]:
            return None
        return ["CMD-SHELL", test] if isinstance(test, str) else [str(t) for t in test]

    def volumes(self, service: str) -> list[tuple[str, str]]:
        out = []
        for v in self.services[service].get("volumes") or []:
            if isinstance(v, dict):
                out.append((v.get("source", ""), v["target"]))
            else:
                source, _, rest = v.partition(":")
                out.append((source, rest.split(":")[0]))
        return out

    def tmpfs(self, service: str) -> list[str]:
        t = self.services[service].get("tmpfs") or []
        return [t] if isinstance(t, str) else list(t)


def image_env(dockerfile: Path = DOCKERFILE) -> dict[str, str]:
    """The ENV of the Dockerfile's last stage (values that refer to other variables, PATH
    among them, are left out: the local PATH leads to the virtualenv instead)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    env: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.upper().startswith("FROM "):
            env = {}
        elif line.upper().startswith("ENV "):
            for item in shlex.split(line[4:]):
                if "=" in item:
                    k, v = item.split("=", 1)
                    if "$" not in v:
                        env[k] = v
    return env


def env_file_values(example: Path = ENV_EXAMPLE) -> dict[str, str]:
    """What an operator's .env holds after following .env.example: its values, with the
    secrets `changtong keys` prints and a random database password filled in."""
    from dotenv import dotenv_values

    from click.testing import CliRunner

    from web.cli.keys import keys_group as keys

    values = {k: v or "" for k, v in dotenv_values(example).items()}
    out = CliRunner().invoke(keys, [])
    if out.exit_code != 0:
        raise RuntimeError(f"changtong keys: {out.output}")
    for line in out.output.splitlines():
        k, _, v = line.partition("=")
        values[k] = v
    values["POSTGRES_PASSWORD"] = secrets.token_hex(24)
    return values


def _base_env() -> dict[str, str]:
    """What every process inherits from the host: only PATH (the virtualenv first), HOME,
    a UTF-8 locale, and no .env file loading (a container has no .env file either)."""
    return {"PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8", "PYTHON_DOTENV_DISABLED": "1"}


# -- the parts ----------------------------------------------------------------------------------

class Postgres:
    """A cluster of our own: initdb into a temporary directory, pg_ctl on a free port.
    With a password, TCP connections must give it (scram-sha-256), as the postgres image's."""

    def __init__(self, root: Path, user: str = "postgres", password: str | None = None, database: str = "changtong"):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bin = Path(bins[-1]).parent
        self.root, self.port = root, free_port()
        self.user, self.password, self.database = user, password, database
        self.data, self.log = root / "pgdata", root / "postgres.log"
        self.running = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:  # postgres refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth-local=trust",
                  f"--auth-host={'scram-sha-256' if self.password else 'trust'}",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        # fsync off: a throwaway cluster on a shared machine; restarts here are clean (-m fast)
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c max_connections=200 "
                "-c fsync=off -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, "start")
        self.running = True
        import psycopg
        from psycopg import sql

        # through the socket as the superuser, as the image's entrypoint does on first start
        with psycopg.connect(host=str(self.root), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as c:
            owner = self.user
            if self.user != "postgres":
                c.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(self.user), sql.Literal(self.password)))
            c.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.database),
                                                                   sql.Identifier(owner)))

    @property
    def url(self) -> str:
        auth = self.user + (f":{urllib.parse.quote(self.password, safe='')}" if self.password else "")
        return f"postgresql+psycopg://{auth}@{HOST}:{self.port}/{self.database}"

    def restart(self) -> float:
        t = time.monotonic()
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-m", "fast", "restart")
        return time.monotonic() - t

    def stop(self) -> None:
        if self.running:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", "immediate", "stop", check=False)
            self.running = False


class Redis:
    """A redis-server of our own on a free port (no persistence: a throwaway broker)."""

    def __init__(self, root: Path):
        self.root, self.port, self.proc = root, free_port(), None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

        def up():
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(up, timeout=20, interval=0.05, what="redis-server")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"


class Proc:
    """One service process (its own session, so that it and its children stop together)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self._fh = open(log, "ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def terminate(self) -> None:
        """SIGTERM to the process group: warm shutdown for celery, graceful for gunicorn."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        self.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self._fh.close()


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class Node:
    """One web container: gunicorn (the web service's command) on its own port, and on a second
    one for the staff when the web service sets CHANGTONG_STAFF_BIND (docker-compose.yml does)."""
    port: int
    proc: Proc
    index: int
    staff_port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def staff_url(self) -> str:
        """Where the staff's pages are reached: the staff's door, or the one port."""
        return f"http://{HOST}:{self.staff_port or self.port}"

    @property
    def master_pid(self) -> int:
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (the master's children)."""
        return children(self.proc.pid)


# -- the cluster --------------------------------------------------------------------------------

class Cluster:
    """docker-compose.yml's services as local processes; a context manager that stops
    everything and removes its directory whatever happens."""

    def __init__(self, web_nodes: int = 2, workers: int = 2, web_concurrency: int = 2,
                 env: dict | None = None, keep: bool = False):
        self.want_nodes, self.want_workers = web_nodes, workers
        # the demo registry (units, associations, categories) unless the caller says otherwise:
        # a scenario or a benchmark files cases against it
        # no SMS gateway or mail server here: the notices go to the development files it counts
        self.overrides = {"CHANGTONG_SEED_DEMO": "1", "CHANGTONG_DEV_NOTICE_FILES": "1", **(env or {})}
        self.web_concurrency, self.keep = web_concurrency, keep
        self.tmp = Path(tempfile.mkdtemp(prefix="changtong-cluster-"))
        os.chmod(self.tmp, 0o755)  # the postgres user reaches its directory through it
        self.data_dir = self.tmp / "data"
        self.nodes: list[Node] = []
        self._node_count = 0
        self.workers: list[Proc] = []
        self.beat: Proc | None = None
        self.procs: list[Proc] = []
        self.timings: dict[str, float] = {}
        self.env: dict[str, str] = {}
        self.pg: Postgres | None = None
        self.redis: Redis | None = None

    # lifecycle
    def __enter__(self) -> "Cluster":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        t0 = time.monotonic()
        self.values = env_file_values()
        self.values.update({k: str(v) for k, v in self.overrides.items()})
        self.compose = Compose(COMPOSE_FILE, self.values)
        self.image_env = image_env(DOCKERFILE)

        db_env = self.compose.environment("db")
        self.pg = Postgres(self.tmp / "pg", user=db_env.get("POSTGRES_USER", "postgres"),
                           password=db_env.get("POSTGRES_PASSWORD") or None,
                           database=db_env.get("POSTGRES_DB", "changtong"))
        self.redis = Redis(self.tmp / "redis")
        self.data_dir.mkdir()
        for service in self.compose.services:  # the image's mount points under /data
            for _, target in self.compose.volumes(service):
                if target == DATA_DIR or target.startswith(DATA_DIR + "/"):
                    self.localize_path(target).mkdir(parents=True, exist_ok=True)
        self.pg.start()
        self.redis.start()
        self.timings["postgres+redis"] = time.monotonic() - t0

        # the shared settings, as the web service sees them (the overrides win, as a test wants)
        self.env = self.service_env("web")
        self.pg_url = self.env["DATABASE_URL"]
        self.redis_url = self.env["REDIS_URL"]

        t = time.monotonic()
        migrate = self.run_once("migrate", self.compose.command("migrate"))
        if migrate.returncode != 0:
            output = (migrate.stdout + migrate.stderr)[-3000:]
            raise RuntimeError(f"migrate exited with {migrate.returncode}:\n{output}")
        self.timings["migrate"] = time.monotonic() - t

        t = time.monotonic()
        for _ in range(self.want_workers):
            self.start_worker()
        self.start_beat()
        pending = [self._spawn_node() for _ in range(self.want_nodes)]
        for node in pending:
            self._wait_node(node)
            self.nodes.append(node)
        for w in self.workers:
            self._wait_worker(w)
        self.timings["web, workers, beat"] = time.monotonic() - t

    def close(self) -> None:
        procs = list(dict.fromkeys([n.proc for n in self.nodes] + self.workers + ([self.beat] if self.beat else [])
                                   + self.procs))
        steps = [p.terminate for p in procs] + [p.stop for p in procs]  # all at once, then each waited for
        steps += [s.stop for s in (self.redis, self.pg) if s is not None]
        for step in steps:
            try:
                step()
            except Exception as exc:  # keep stopping the rest
                print(f"cleanup: {exc!r}", file=sys.stderr)
        self.nodes, self.workers, self.beat, self.procs = [], [], None, []
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # the mapping from containers to local processes
    def localize_path(self, path: str) -> Path:
        return self.data_dir / path[len(DATA_DIR):].lstrip("/")

    def localize(self, value: str) -> str:
        """Service names to 127.0.0.1 and the local ports, /data to the temporary directory."""
        value = re.sub(r"(?<=[@/])db:5432(?=/|$)", f"{HOST}:{self.pg.port}", value)
        value = re.sub(r"(?<=[@/])redis:6379(?=/|$)", f"{HOST}:{self.redis.port}", value)
        return re.sub(r"(?<![\w./-])/data(?=/|$|\W)", str(self.data_dir), value)

    def service_env(self, service: str, **extra: str) -> dict[str, str]:
        """What the service's container gets: the image's ENV, the env file, the service's
        environment (compose's order: later wins), then the cluster's overrides."""
        env = _base_env()
        env.update(self.image_env)
        if self.compose.env_files(service):
            env.update(self.values)
        env.update(self.compose.environment(service))
        env.update({k: str(v) for k, v in self.overrides.items()})
        env = {k: self.localize(v) for k, v in env.items()}
        for i, target in enumerate(self.compose.tmpfs(service)):  # a tmpfs of its own per process
            local = self.tmp / f"tmpfs-{service}-{time.time_ns()}-{i}"
            local.mkdir()
            env = {k: v.replace(target, str(local)) for k, v in env.items()}
        env.update(extra)
        return env

    def run_once(self, service: str, argv: list[str], stdin: str = "", **extra: str) -> subprocess.CompletedProcess:
        """A one-shot container (`docker compose run --rm SERVICE ARGV`)."""
        return subprocess.run([self.localize(a) for a in argv], cwd=ROOT, env=self.service_env(service, **extra),
                              capture_output=True, text=True, timeout=300, input=stdin)

    def _spawn(self, name: str, service: str, argv: list[str], **extra: str) -> Proc:
        proc = Proc(name, [self.localize(a) for a in argv], self.service_env(service, **extra),
                    self.tmp / f"{name}.log")
        self.procs.append(proc)
        return proc

    # web
    def _spawn_node(self) -> Node:
        port = free_port()
        self._node_count += 1
        index = self._node_count
        binds = {"CHANGTONG_BIND": f"{HOST}:{port}"}
        staff_port = None
        if self.compose.environment("web").get("CHANGTONG_STAFF_BIND"):
            while staff_port in (None, port):  # two free ports, not the same one twice
                staff_port = free_port()
            binds["CHANGTONG_STAFF_BIND"] = f"{HOST}:{staff_port}"
        proc = self._spawn(f"web-{index}-{port}", "web", self.compose.command("web"),
                           WEB_CONCURRENCY=str(self.web_concurrency), **binds)
        return Node(port=port, proc=proc, index=index, staff_port=staff_port)

    def _wait_node(self, node: Node, timeout: float = 60) -> None:
        def ready():
            if not node.proc.alive():
                raise RuntimeError(f"gunicorn {node.proc.name} exited with {node.proc.proc.returncode}:\n"
                                   f"{node.proc.tail()}")
            return all(http_get(url + "/readyz")[0] == 200 for url in dict.fromkeys((node.base_url, node.staff_url)))

        wait_for(ready, timeout=timeout, interval=0.1, what=f"{node.proc.name} to answer /readyz")

    def add_node(self) -> Node:
        """One more web container with the same settings."""
        node = self._spawn_node()
        self._wait_node(node)
        self.nodes.append(node)
        return node

    def stop_node(self, node: Node) -> None:
        node.proc.stop()
        self.nodes.remove(node)
        self.procs.remove(node.proc)

    # workers and beat
    def start_worker(self) -> Proc:
        n = len(self.workers) + 1
        # a container's host name is its own; local processes share one, so each worker is
        # named as its container would be (and the healthcheck's $HOSTNAME follows)
        argv = self.compose.command("worker") + ["-n", f"celery@worker-{n}"]
        extra = {"HOSTNAME": f"worker-{n}"}
        if "CHANGTONG_WORKER_METRICS_PORT" in self.compose.environment("worker"):
            extra["CHANGTONG_WORKER_METRICS_PORT"] = str(free_port())  # one port per container
            extra["CHANGTONG_WORKER_METRICS_ADDR"] = HOST
        proc = self._spawn(f"worker-{n}", "worker", argv, **extra)
        self.workers.append(proc)
        return proc

    def _wait_worker(self, proc: Proc, timeout: float = 60) -> None:
        def ready():
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited with {proc.proc.returncode}:\n{proc.tail()}")
            return b" ready." in proc.log.read_bytes()

        wait_for(ready, timeout=timeout, interval=0.1, what=f"{proc.name} to be ready")

    def start_beat(self) -> Proc:
        if self.beat is not None and self.beat.alive():
            raise RuntimeError("beat is running already: there is exactly one")
        self.beat = self._spawn("beat", "beat", self.compose.command("beat"))
        return self.beat

    # operator's tools
    def staff_token(self, unit_code: str, role: str = "handler") -> str:
        """A staff account with ROLE in the unit and a desk API token for it: what
        `changtong users create NAME --unit CODE --role ROLE` and `changtong users token NAME`
        do (the same operations, in this process: the CLI's start-up costs seconds)."""
        from sqlalchemy import select

        from casework.accounts.models import Role
        from casework.accounts.operations import create_staff_user, issue_api_token
        from casework.audit.operations import cli_actor
        from casework.registry.models import Unit

        name = f"cluster-{role}-{unit_code}-{secrets.token_hex(3)}".replace("_", "-")
        db = self.db()
        try:
            with db.session_scope() as s:
                unit = s.scalar(select(Unit).where(Unit.code == unit_code))
                if unit is None:
                    raise KeyError(f"no unit has the code {unit_code!r}")
                user, _ = create_staff_user(s, cli_actor("cluster"), name, name, secrets.token_urlsafe(18), unit,
                                            [Role(role)])
                return issue_api_token(s, cli_actor("cluster"), user, label="cluster")
        finally:
            db.dispose()

    def healthcheck(self, service: str, proc: Proc | None = None) -> tuple[bool, str]:
        """Run the service's compose healthcheck against one of its processes, as Docker
        would inside the container (127.0.0.1:8000 is the node's port, $HOSTNAME its name)."""
        test = self.compose.healthcheck(service)
        if test is None:
            return False, "no healthcheck"
        extra = {}
        if proc is not None and "HOSTNAME" in proc.env:
            extra["HOSTNAME"] = proc.env["HOSTNAME"]
        env = self.service_env(service, **extra)

        def local(arg: str) -> str:
            if proc is not None and service == "web":
                arg = re.sub(r"(127\.0\.0\.1|localhost):8000\b", proc.env["CHANGTONG_BIND"], arg)
            return self.localize(arg)

        argv = ["sh", "-c", local(test[1])] if test[0] == "CMD-SHELL" else [local(a) for a in test[1:]]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        return done.returncode == 0, (done.stdout + done.stderr).strip()[-500:]

    def logs(self, lines: int = 40) -> str:
        out = []
        for p in [n.proc for n in self.nodes] + self.workers + ([self.beat] if self.beat else []):
            out.append(f"--- {p.name}\n{p.tail(lines)}")
        if self.pg is not None and self.pg.log.exists():
            out.append("--- postgres\n" + "\n".join(self.pg.log.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)

    def db(self):
        from casework.db import Database

        return Database(self.pg_url)


# -- HTTP ---------------------------------------------------------------------------------------

def http_request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 30) -> tuple[int, dict, bytes]:
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, u.path + (f"?{u.query}" if u.query else ""), body, headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()} | {
            "set-cookie": resp.headers.get_all("Set-Cookie") or []}, resp.read()
    except (OSError, http.client.HTTPException):
        return 0, {}, b""
    finally:
        conn.close()


def http_get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    status, _, body = http_request("GET", url, headers=headers)
    return status, body


def api(method: str, url: str, payload: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    h = {"Accept-Language": "zh-CN", **(headers or {})}
    body = None
    if payload is not None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        h["Content-Type"] = "application/json"
    status, _, data = http_request(method, url, body, h)
    try:
        return status, json.loads(data) if data else {}
    except ValueError:
        return status, {"raw": data[:200].decode("utf-8", "replace")}


class Browser:
    """A phone's browser, as far as the form needs: cookies kept and sent back (a Secure
    cookie too: the TLS proxy in front is what a browser would talk to)."""

    def __init__(self, base_url: str):
        self.base, self.cookies = base_url, {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, h, data = http_request(method, self.base + path, body, headers)
        for c in h.get("set-cookie", []):
            k, _, v = c.split(";", 1)[0].partition("=")
            self.cookies[k.strip()] = v.strip()
        if status in (302, 303) and h.get("location"):  # a filing's receipt: Post/Redirect/Get, as a browser follows it
            u = urllib.parse.urlsplit(h["location"])
            return self.request("GET", u.path + (f"?{u.query}" if u.query else ""))
        return status, data.decode("utf-8", "replace")


# -- the scenario -------------------------------------------------------------------------------

COMPLAINT = {
    "type": "complaint", "association": "51100000500009247D", "category": "forced_membership",
    "title": "强制入会并收取会费", "description": "协会要求我公司必须入会，并收取会费两万元，否则不予办理证明。",
    "complainant": {"name": "张三", "phone": "13800138000"}, "privacy_consent": True,
}


@dataclass
class Report:
    steps: list[tuple[str, float, str]] = field(default_factory=list)
    checks: dict[str, object] = field(default_factory=dict)
    out: Callable[[str], None] = print
    t0: float = field(default_factory=time.monotonic)

    def step(self, text: str, since: float) -> None:
        took = time.monotonic() - since
        self.steps.append((text, took, ""))
        self.out(f"  {time.monotonic() - self.t0:6.1f} s  {text} ({took * 1000:.0f} ms)")


def _query(cluster: Cluster, fn):
    db = cluster.db()
    try:
        with db.session_scope() as s:
            return fn(s)
    finally:
        db.dispose()


def last_sms_code(cluster: "Cluster", timeout: float = 30.0) -> str:
    """The code of the last SMS verification queued (issue 19). A worker may already have sent
    it, which erases the queued copy (casework.notify.dispatch): then it is read from the text
    delivered to the development notice files, as the person would read it on the phone."""
    import json as _json

    from sqlalchemy import select

    from casework.notify.channels import FileSink
    from casework.notify.models import OutboxMessage
    from casework.privacy.crypto import Cipher
    from casework.settings import _keyring

    cipher = Cipher(_keyring(cluster.service_env("web"), "CHANGTONG_PII_KEY"))
    deadline = time.monotonic() + timeout
    while True:
        row = _query(cluster, lambda s: s.execute(select(OutboxMessage.id, OutboxMessage.payload_enc).where(
            OutboxMessage.template == "verify_code").order_by(OutboxMessage.id.desc()).limit(1)).first())
        if row is not None and row.payload_enc is not None:
            return _json.loads(cipher.decrypt(row.payload_enc, "outbox.payload"))["code"]
        if row is not None:
            sink = FileSink(cluster.data_dir / "notices", cipher)
            for path in (cluster.data_dir / "notices").rglob(f"outbox_{row.id}_*{FileSink.SUFFIX}"):
                found = re.search(r"\b(\d{6})\b", sink.read(path)["body"])
                if found:
                    return found.group(1)
        if time.monotonic() > deadline:
            raise RuntimeError("no SMS verification code was queued or delivered")
        time.sleep(0.1)


def file_through_form(base_url: str, cluster: "Cluster | None" = None) -> tuple[int, str, str]:
    """The phone form: open it, fill it in, submit, type the SMS code it asks for (issue 19);
    the receipt page it is sent to (303) shows number and code."""
    browser = Browser(base_url)
    status, page = browser.request("GET", "/file/complaint")
    if status != 200:
        return status, "", ""
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    status, page = browser.request("POST", "/file/complaint", {
        "csrf_token": csrf, "form_token": token, "association": COMPLAINT["association"],
        "category": COMPLAINT["category"], "title": "入会后被要求缴纳高额赞助费",
        "description": "协会通知必须缴纳赞助费五万元，否则取消会员资格。", "complainant.name": "李四",
        "complainant.phone": "13900139000", "privacy_consent": "1"})
    asked = re.search(r'name="verification_id" value="([^"]*)"', page)
    if status == 200 and asked and cluster is not None:
        status, page = browser.request("POST", "/file/complaint", {
            "csrf_token": csrf, "form_token": token, "association": COMPLAINT["association"],
            "category": COMPLAINT["category"], "title": "入会后被要求缴纳高额赞助费",
            "description": "协会通知必须缴纳赞助费五万元，否则取消会员资格。", "complainant.name": "李四",
            "complainant.phone": "13900139000", "privacy_consent": "1",
            "verification_id": asked.group(1), "verify_code": last_sms_code(cluster)})
    number = re.search(r'id="case-number"[^>]*>([A-Z0-9]+)<', page)
    code = re.search(r'id="query-code"[^>]*>([0-9A-Z-]+)<', page)
    return status, number.group(1) if number else "", code.group(1) if code else ""


def sweeps_done(cluster: Cluster) -> int:
    """Deadline sweeps the workers finished so far (from their logs)."""
    return sum(len(re.findall(rb"changtong\.sweep_deadlines\[[^]]+\] succeeded", w.log.read_bytes()))
               for w in cluster.workers)


def run_scenario(cluster: Cluster, out: Callable[[str], None] = print) -> dict:
    """Across the nodes: file on node 1, handle on node 2, track on node 1, a clock jump for
    the sweep, then the notices and the health of everything. Returns the checks."""
    from sqlalchemy import func, select, update

    from casework.cases.models import Case, Event, EventKind
    from casework.notify.models import OutboxMessage, OutboxStatus
    from casework.registry.models import Unit

    rep = Report(out=out)
    c = rep.checks
    n1, n2 = cluster.nodes[0], cluster.nodes[-1]

    t = time.monotonic()
    # the number proved with an SMS code asked on node 2 (issue 19): the receipt then goes to it
    _, sent = api("POST", n2.base_url + "/api/v1/verifications", {"phone": COMPLAINT["complainant"]["phone"]})
    proof = {"verification": {"id": sent.get("id", ""), "code": last_sms_code(cluster)}}
    status, body = api("POST", n1.base_url + "/api/v1/cases", {**COMPLAINT, **proof},
                       {"Idempotency-Key": f"cluster-{secrets.token_hex(16)}"})
    c["api_submit_status"] = status
    number, code = body.get("case_number", ""), body.get("query_code", "")
    rep.step(f"node 1: POST /api/v1/cases -> {status} {number}", t)

    t = time.monotonic()
    status, number2, code2 = file_through_form(n1.base_url, cluster)
    c["form_submit_status"], c["form_receipt_shown"] = status, bool(number2 and code2)
    rep.step(f"node 1: the phone form -> {status} {number2}", t)

    unit_code = _query(cluster, lambda s: s.scalar(
        select(Unit.code).join(Case, Case.unit_id == Unit.id).where(Case.number == number)))
    c["routed_unit"] = unit_code
    t = time.monotonic()
    token = cluster.staff_token(unit_code, "handler")
    rep.step(f"a handler of {unit_code} and a desk API token (changtong users create/token)", t)
    auth = {"Authorization": f"Bearer {token}"}
    desk = f"{n2.staff_url}/api/v1/desk/cases/{number}"  # the staff work through the staff's door
    track = f"{n1.base_url}/api/v1/cases/{number}"

    states = []
    for move, fields in (("accept", {"public_text": "已受理，将在规定时限内答复。"}),
                         ("reply", {"public_text": "经核查，协会已退还会费，特此答复。", "finding": "substantiated",
                                    "opinion": "supported", "legal_basis": "《国务院办公厅关于进一步规范行业协会商会收费的通知》"})):
        t = time.monotonic()
        _, case = api("GET", desk, headers=auth)
        status, moved = api("POST", f"{desk}/{move}", {"version": case.get("version"), **fields}, auth)
        c[f"{move}_status"] = status
        rep.step(f"node 2: {move} -> {status} {moved.get('state')}", t)
        t = time.monotonic()
        status, seen = api("GET", track, headers={"X-Query-Code": code})
        states.append(seen.get("state"))
        rep.step(f"node 1: the complainant tracks it -> {status} {seen.get('state')}", t)
    c["tracked_states"] = states

    # a clock jump for the second case: its deadline is now yesterday
    t = time.monotonic()
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    _query(cluster, lambda s: s.execute(update(Case).where(Case.number == number2).values(due_at=yesterday)))
    case2_id = _query(cluster, lambda s: s.scalar(select(Case.id).where(Case.number == number2)))

    def overdue_events():
        return _query(cluster, lambda s: s.scalar(select(func.count()).select_from(Event).where(
            Event.case_id == case2_id, Event.kind == EventKind.overdue)))

    wait_for(overdue_events, timeout=60, interval=0.2, what="the sweep to flag the overdue case")
    rep.step("beat's sweep flagged the overdue case (督办 level 1)", t)
    # more sweeps run, on either worker: nothing more may happen to the case (three finish
    # after this point, so at least two of them started after the flag was committed)
    t, done = time.monotonic(), sweeps_done(cluster)
    wait_for(lambda: sweeps_done(cluster) >= done + 3, timeout=60, interval=0.2, what="three more sweeps")
    c["sweeps_after_the_flag"] = sweeps_done(cluster) - done
    rep.step(f"{c['sweeps_after_the_flag']} more sweeps ran", t)
    c["overdue_events"] = overdue_events()
    c["supervision_level"] = _query(cluster, lambda s: s.scalar(select(Case.supervision_level).where(
        Case.id == case2_id)))

    def unsent():
        return _query(cluster, lambda s: s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != OutboxStatus.sent)))

    t = time.monotonic()
    wait_for(lambda: unsent() == 0, timeout=60, interval=0.2, what="the outbox to drain")
    rep.step("the workers sent every notice (outbox drained)", t)
    c["outbox_unsent"] = unsent()
    rows = _query(cluster, lambda s: [tuple(r) for r in s.execute(select(
        OutboxMessage.id, OutboxMessage.case_id, OutboxMessage.template, OutboxMessage.channel,
        OutboxMessage.attempts))])
    case1_id = _query(cluster, lambda s: s.scalar(select(Case.id).where(Case.number == number)))
    notices = cluster.data_dir / "notices"
    files = [p for p in notices.rglob("*.notice")]
    file_ids = Counter(int(m.group(1)) for p in files if (m := re.match(r"outbox_(\d+)_", p.name)))
    row_ids = {r[0] for r in rows}
    c["notices"] = len(rows)
    c["notice_templates"] = dict(Counter(r[2] for r in rows))
    c["receipts"] = sum(1 for r in rows if r[2] == "case_receipt" and r[1] in (case1_id, case2_id))
    # news for the complainant: "look at your case", or "a written notice is there" (casework.documents)
    c["updates_to_complainant"] = sum(1 for r in rows if r[2] in ("case_update", "case_document") and r[1] == case1_id)
    c["sweep_notices"] = sum(1 for r in rows if r[1] is None and r[2] in ("unit_overdue", "supervision_1"))
    c["files"] = len(files)
    c["files_per_notice"] = dict(Counter(file_ids[i] for i in row_ids))  # {1: all} is right
    c["files_without_notice"] = len(set(file_ids) - row_ids)
    c["notices_taken_more_than_once"] = sum(1 for r in rows if r[4] != 1)

    t = time.monotonic()
    c["readyz"] = [http_get(n.base_url + "/readyz")[0] for n in cluster.nodes]
    c["staff_doors"] = [(n.staff_port, http_get(n.staff_url + "/readyz")[0]) for n in cluster.nodes]
    targets = ([("web", n.proc) for n in cluster.nodes] + [("worker", w) for w in cluster.workers]
               + [("beat", cluster.beat)])
    with ThreadPoolExecutor(len(targets)) as pool:  # Docker runs them side by side too
        futures = {p.name: pool.submit(cluster.healthcheck, service, p) for service, p in targets}
        health = {name: f.result() for name, f in futures.items()}
    c["healthchecks"] = {k: ok for k, (ok, _) in health.items()}
    c["healthcheck_output"] = {k: msg for k, (ok, msg) in health.items() if not ok}
    rep.step("/readyz on every node; the compose healthchecks of web, worker and beat", t)

    c["beat_processes"] = sum(1 for p in [cluster.beat] if p is not None and p.alive())
    c["worker_commands_with_-B"] = sum(1 for w in cluster.workers if "-B" in w.argv or "--beat" in w.argv)
    c["tasks_per_worker"] = {w.name: w.log.read_bytes().count(b"] received") for w in cluster.workers}
    c["timings"] = {text: round(took, 3) for text, took, _ in rep.steps}
    return c


def failures(c: dict, nodes: int) -> list[str]:
    """What went wrong, in words (empty when the scenario passed)."""
    expect = {
        "api_submit_status": 201, "form_submit_status": 200, "form_receipt_shown": True,
        "accept_status": 200, "reply_status": 200, "tracked_states": ["accepted", "replied"],
        "overdue_events": 1, "supervision_level": 1, "outbox_unsent": 0, "files_without_notice": 0,
        "notices_taken_more_than_once": 0, "readyz": [200] * nodes, "beat_processes": 1,
        "worker_commands_with_-B": 0, "receipts": 2,
    }
    bad = [f"{k}: {c.get(k)!r}, expected {v!r}" for k, v in expect.items() if c.get(k) != v]
    if c.get("files_per_notice") != {1: c.get("notices")}:
        bad.append(f"files_per_notice: {c.get('files_per_notice')}, expected one file for each of {c.get('notices')}")
    if c.get("sweeps_after_the_flag", 0) < 3:
        bad.append(f"only {c.get('sweeps_after_the_flag')} sweeps ran after the flag")
    if c.get("updates_to_complainant", 0) < 1:
        bad.append("no notice told the complainant about the reply")
    if c.get("sweep_notices", 0) < 1:
        bad.append("the sweep sent no notice to the unit")
    if not all(c.get("healthchecks", {}).values()):
        bad.append(f"healthchecks failed: {c.get('healthcheck_output')}")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--web-nodes", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--web-concurrency", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    t = time.monotonic()
    # a fast schedule: the dispatch and the sweep every second (the production defaults are
    # 5 s and 5 minutes)
    env = {"CHANGTONG_DISPATCH_SECONDS": "1", "CHANGTONG_SWEEP_SECONDS": "1"}
    try:
        with Cluster(web_nodes=args.web_nodes, workers=args.workers, web_concurrency=args.web_concurrency,
                     env=env, keep=args.keep) as cluster:
            print(f"cluster up in {time.monotonic() - t:.1f} s from {COMPOSE_FILE.name} ("
                  + ", ".join(f"{k} {v:.1f} s" for k, v in cluster.timings.items()) + ")")
            print(f"  PostgreSQL :{cluster.pg.port}, Redis :{cluster.redis.port}, web nodes "
                  + ", ".join(f":{n.port} ({len(n.worker_pids())} gunicorn workers)" for n in cluster.nodes)
                  + f", {len(cluster.workers)} Celery workers, 1 beat; in {cluster.tmp}")
            try:
                checks = run_scenario(cluster)
            except BaseException:
                print(cluster.logs(), file=sys.stderr)
                raise
            bad = failures(checks, len(cluster.nodes))
            print("checks:")
            for k, v in checks.items():
                if k not in ("timings", "healthcheck_output"):
                    print(f"  {k}: {v}")
            if bad:
                print("FAILED:\n  " + "\n  ".join(bad))
                print(cluster.logs(), file=sys.stderr)
    except Exception as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"{'FAILED' if bad else 'OK'} in {time.monotonic() - t:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
