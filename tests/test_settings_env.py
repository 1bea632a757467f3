"""Settings come from one place (STYLE.md rule 9): no module of casework/, web/ or workers/
reads the environment when it is imported, and outside casework/settings.py only the names
listed here, each for its reason, are read from os.environ at all."""
from __future__ import annotations

import ast
from dataclasses import dataclass, fields
from pathlib import Path

import pytest

from casework.settings import Settings, SettingsError, new_key

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("casework", "web", "workers")
HOME = "casework/settings.py"  # Settings.from_env: where settings are read

# (module, variable) read from os.environ at run time, outside Settings, and why
ALLOWED = {
    # prometheus_client's own convention: the library reads it from each process's environment
    ("workers/metrics.py", "PROMETHEUS_MULTIPROC_DIR"): "set for the pool's children before they fork",
    ("web/ops/metrics.py", "PROMETHEUS_MULTIPROC_DIR"): "set by gunicorn.conf.py for its workers",
    # logging is configured by gunicorn.conf.py in the master, before any Settings exist
    ("casework/logs.py", "CHANGTONG_LOG_FORMAT"): "read when logging is set up",
    ("casework/logs.py", "CHANGTONG_LOG_LEVEL"): "read when logging is set up",
}
# the processes' entry points: the only modules that load the settings as they are imported
ENTRY_POINTS = {"web/wsgi.py", "workers/main.py"}
LOADERS = {"from_env", "load_dotenv", "dotenv_values"}


@dataclass(frozen=True)
class Read:
    line: int
    name: str  # the variable, "*" when it cannot be told (the whole environment)
    at_import: bool  # in code that runs when the module is imported


def env_reads(source: str) -> list[Read]:
    """Every use of os.environ / os.getenv (or environ/getenv imported from os), and every call
    of a settings loader, with whether it runs at import: module level, class bodies,
    decorators and default values do; function bodies do not."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    imported = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "os" for alias in node.names if alias.name in ("environ", "getenv")}
    found: list[Read] = []

    def variable(node: ast.AST) -> str:
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute):  # os.environ.get("X"), .setdefault("X"), .pop("X")
            node, parent = parent, parents.get(parent)
        if isinstance(parent, ast.Call) and parent.func is node and parent.args:
            arg = parent.args[0]
        elif isinstance(parent, ast.Subscript) and parent.value is node:
            arg = parent.slice
        elif isinstance(parent, ast.Compare) and isinstance(parent.ops[0], (ast.In, ast.NotIn)):
            arg = parent.left
        else:
            return "*"
        return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else "*"

    def is_env(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            return node.attr in ("environ", "environb", "getenv", "getenvb")
        return isinstance(node, ast.Name) and node.id in imported

    def is_loader(node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        f = node.func
        return (isinstance(f, ast.Attribute) and f.attr in LOADERS) or (isinstance(f, ast.Name) and f.id in LOADERS)

    def visit(node: ast.AST, at_import: bool) -> None:
        if is_env(node):
            found.append(Read(node.lineno, variable(node), at_import))
        elif is_loader(node):
            found.append(Read(node.lineno, f"<{ast.unparse(node.func)}()>", at_import))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in [*node.decorator_list, *node.args.defaults, *filter(None, node.args.kw_defaults)]:
                visit(part, at_import)
            for statement in node.body:
                visit(statement, False)
        elif isinstance(node, ast.Lambda):
            for part in [*node.args.defaults, *filter(None, node.args.kw_defaults)]:
                visit(part, at_import)
            visit(node.body, False)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, at_import)

    visit(tree, True)
    return found


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")


def test_the_scan_sees_what_runs_at_import():
    reads = env_reads('''
import os
from os import environ as env
A = float(os.environ.get("A", "1"))
B = os.getenv("B")
C = "C" in os.environ
D = env["D"]
class K:
    E = os.environ["E"]
@decorated(os.environ.get("F"))
def f(x=os.environ.get("G"), *, y=lambda: os.environ["H"]):
    return os.environ.get("I"), os.environ
settings = Settings.from_env()
''')
    assert [(r.name, r.at_import) for r in reads] == [
        ("A", True), ("B", True), ("C", True), ("D", True), ("E", True), ("F", True), ("G", True),
        ("H", False), ("I", False), ("*", False), ("<Settings.from_env()>", True)]


def test_no_module_reads_the_environment_when_imported():
    found = [f"{path}:{r.line} {r.name}" for path, source in modules() for r in env_reads(source)
             if r.at_import and path not in ENTRY_POINTS]
    assert not found, ("read at import (make it a field of casework.settings.Settings, read in "
                       f"Settings.from_env and passed in): {found}")


def test_outside_settings_only_the_allowed_variables_are_read():
    found = {(path, r.name) for path, source in modules() if path != HOME for r in env_reads(source)
             if not r.name.startswith("<")}
    assert found <= set(ALLOWED), f"read outside Settings: {sorted(found - set(ALLOWED))}"
    assert not set(ALLOWED) - found, f"allowed but no longer read (drop them): {sorted(set(ALLOWED) - found)}"


# -- the settings that were read at import before ------------------------------------------------

INTERVALS = {  # field: (variable, default)
    "outbox_lease_seconds": ("CHANGTONG_OUTBOX_LEASE_SECONDS", 120.0),
    "dispatch_seconds": ("CHANGTONG_DISPATCH_SECONDS", 5.0),
    "sweep_seconds": ("CHANGTONG_SWEEP_SECONDS", 300.0),
    "search_seconds": ("CHANGTONG_SEARCH_SECONDS", 10.0),
    "stats_seconds": ("CHANGTONG_STATS_SECONDS", 60.0),
    "risk_seconds": ("CHANGTONG_RISK_SECONDS", 3600.0),
    "retention_seconds": ("CHANGTONG_RETENTION_SECONDS", 86400.0),
}


def secrets(**extra) -> dict[str, str]:
    return {"CHANGTONG_SECRET_KEY": "s", "CHANGTONG_PII_KEY": new_key(), "CHANGTONG_QUERY_PEPPER": new_key(),
            "CHANGTONG_DATA_DIR": "/nonexistent", **extra}


def test_the_intervals_are_settings_with_their_old_defaults():
    names = {f.name for f in fields(Settings)}
    defaults = Settings.from_env(secrets())
    for n, (field_name, (variable, default)) in enumerate(INTERVALS.items(), start=1):
        assert field_name in names
        assert getattr(defaults, field_name) == default
        assert getattr(Settings.from_env(secrets(**{variable: f"{n}.5"})), field_name) == n + 0.5
        assert getattr(Settings.from_env(secrets(**{variable: ""})), field_name) == default  # empty: not set
    assert defaults.outbox_lease.total_seconds() == 120


@pytest.mark.parametrize("raw", ["0", "-5", "nan", "inf", "soon"])
def test_an_interval_is_a_number_of_seconds_above_zero(raw):
    with pytest.raises((SettingsError, ValueError)):
        Settings.from_env(secrets(CHANGTONG_SWEEP_SECONDS=raw))


def test_the_base_url_is_a_setting_checked_at_start():
    """CHANGTONG_BASE_URL (issue 17, item 11): the address absolute URLs are written with."""
    assert Settings.from_env(secrets()).base_url == "http://localhost:5000"
    assert Settings.from_env(secrets(CHANGTONG_BASE_URL="https://ts.example.org/")).base_url == "https://ts.example.org"
    assert Settings.from_env(secrets(CHANGTONG_BASE_URL="https://ts.example.org:8443/changtong")).base_url \
        == "https://ts.example.org:8443/changtong"
    for raw in ("ts.example.org", "ftp://ts.example.org", "https://", "https://user@ts.example.org",
                "https://ts.example.org/?a=1", "https://ts.example.org/#top", "https://ts.example.org:port",
                "https://ts.example.org/a b", "https://ts.example.org\\@evil.example"):
        with pytest.raises(SettingsError):
            Settings.from_env(secrets(CHANGTONG_BASE_URL=raw))


def test_the_web_and_the_command_line_write_nothing_others_may_read(tmp_path):
    """The search index holds case text, the uploads and SQLite's file personal data: with the
    usual umask 022 a host install left them readable by every local user (0644 in a 0755
    directory). The web and the command line start with umask 027 and make the data directory
    0750."""
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGTONG_") and k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CHANGTONG_DATA_DIR=str(data), DATABASE_URL=f"sqlite:///{tmp_path / 'ct.db'}",
               CHANGTONG_SECRET_KEY=new_key(), CHANGTONG_PII_KEY=new_key(), CHANGTONG_QUERY_PEPPER=new_key(),
               CHANGTONG_DEV_NOTICE_FILES="1")
    probe = "import os, web.wsgi; print(oct(os.umask(0)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "0o27"
    assert (data.stat().st_mode & 0o777) == 0o750
    cli = subprocess.run([str(Path(sys.executable).parent / "changtong"), "db", "upgrade"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert (tmp_path / "ct.db").stat().st_mode & 0o007 == 0  # the database file the command made: not for others
