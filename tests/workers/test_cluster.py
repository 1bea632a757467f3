"""The production topology without Docker (bench/cluster.py): docker-compose.yml's services
as local processes, PostgreSQL, Redis, two gunicorn nodes, two workers and one beat from the
same settings, and a case filed on one node, handled on the other, swept and notified once."""
from __future__ import annotations

import glob
import shutil

import pytest

from tests.conftest import needs_service

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture(scope="module")
def run():
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        needs_service("PostgreSQL server binaries (apt-get install postgresql)")
    if not shutil.which("redis-server"):
        needs_service("redis-server (apt-get install redis-server)")
    from bench.cluster import Cluster, run_scenario

    # the dispatch and the sweep every second; one gunicorn worker per node keeps the start
    # quick on two cores (the topology is the same)
    env = {"CHANGTONG_DISPATCH_SECONDS": "1", "CHANGTONG_SWEEP_SECONDS": "1", "CHANGTONG_SEED_DEMO": "1"}
    with Cluster(web_nodes=2, workers=2, web_concurrency=1, env=env) as cluster:
        try:
            checks = run_scenario(cluster, out=lambda line: None)
        except BaseException:
            print(cluster.logs())
            raise
        facts = {
            "commands": {p.name: p.argv for p in [n.proc for n in cluster.nodes] + cluster.workers + [cluster.beat]},
            "compose": {s: cluster.compose.command(s) for s in ("web", "worker", "beat", "migrate")},
            "nodes": [(n.port, n.master_pid, n.worker_pids()) for n in cluster.nodes],
            "env": dict(cluster.env), "data_dir": str(cluster.data_dir), "pg_url": cluster.pg_url,
            # every line every web node, worker and beat wrote
            "logs": "\n".join(p.log.read_text(errors="replace")
                              for p in [n.proc for n in cluster.nodes] + cluster.workers + [cluster.beat]),
        }
        yield checks, facts


def test_two_nodes_two_workers_and_one_beat_run_the_compose_commands(run):
    checks, facts = run
    compose, commands = facts["compose"], facts["commands"]
    webs = [argv for name, argv in commands.items() if name.startswith("web-")]
    workers = [argv for name, argv in commands.items() if name.startswith("worker-")]
    assert len(webs) == 2 and len(workers) == 2 and "beat" in commands
    assert all(argv == compose["web"] for argv in webs)
    # each worker: the compose command, named as its own container would be
    assert all(argv[:len(compose["worker"])] == compose["worker"] and argv[len(compose["worker"]):][0] == "-n"
               for argv in workers)
    assert commands["beat"][:4] == compose["beat"][:4] and facts["data_dir"] in " ".join(commands["beat"])
    assert checks["beat_processes"] == 1 and checks["worker_commands_with_-B"] == 0
    # two gunicorn masters on two ports, each with its worker
    (p1, m1, w1), (p2, m2, w2) = facts["nodes"]
    assert p1 != p2 and m1 != m2 and len(w1) == len(w2) == 1
    # the services found each other through the compose settings, mapped to this machine
    assert facts["env"]["DATABASE_URL"] == facts["pg_url"] and "@127.0.0.1:" in facts["pg_url"]
    assert facts["env"]["CHANGTONG_DATA_DIR"] == facts["data_dir"]


def test_filed_on_one_node_handled_on_the_other_and_tracked(run):
    checks, _ = run
    assert checks["api_submit_status"] == 201
    assert checks["form_submit_status"] == 200 and checks["form_receipt_shown"]
    assert checks["routed_unit"] == "miit"
    assert checks["accept_status"] == 200 and checks["reply_status"] == 200
    # the complainant, on the other node, sees each move as soon as it is made
    assert checks["tracked_states"] == ["accepted", "replied"]


def test_the_beat_driven_sweep_escalates_an_overdue_case_exactly_once(run):
    checks, _ = run
    assert checks["sweeps_after_the_flag"] >= 3  # two workers kept sweeping after the flag...
    assert checks["overdue_events"] == 1  # ...and flagged it once
    assert checks["supervision_level"] == 1


def test_every_notice_is_sent_once_and_the_outbox_is_empty(run):
    checks, _ = run
    assert checks["outbox_unsent"] == 0
    assert checks["receipts"] == 2  # the API's and the form's
    assert checks["updates_to_complainant"] >= 1 and checks["sweep_notices"] >= 1
    assert checks["files_per_notice"] == {1: checks["notices"]}
    assert checks["files_without_notice"] == 0
    assert checks["notices_taken_more_than_once"] == 0  # no message went out twice


def test_readiness_and_the_compose_healthchecks_pass(run):
    checks, facts = run
    assert checks["readyz"] == [200, 200]
    # each node's staff door (docker-compose.yml's CHANGTONG_STAFF_BIND) answers on its own port;
    # the handler's moves in the scenario went through node 2's
    ports = [port for port, *_ in facts["nodes"]]
    assert [status for _, status in checks["staff_doors"]] == [200, 200]
    assert all(door and door not in ports for door, _ in checks["staff_doors"])
    assert len(checks["healthchecks"]) == 5 and all(checks["healthchecks"].values()), checks["healthcheck_output"]


def test_the_logs_carry_no_personal_data(run):
    _, facts = run
    logs = facts["logs"]
    for secret in ("13800138000", "13900139000", "张三", "李四"):
        assert secret not in logs
