"""A real multi-node sweep: a Ray head and two worker nodes started with `ray start` on this machine (free ports,
each node its own WEAKNEG_HOME), an 8-run sweep against a PostgreSQL store, one worker node SIGKILLed
mid-sweep. Every run ends finished with one result; the killed node's runs resume elsewhere from their
checkpoints (kept in the database) and equal an uninterrupted run; an app-side reader with a third, empty
WEAKNEG_HOME reads every run's maps. Every process started here is stopped in teardown (never `ray stop`)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from postgres_support import free_port, postgres_cluster, postgres_url  # noqa: F401  (fixtures)
from resume_support import assert_identical, outcome

from weakneg.config import RunConfig
from weakneg.store import FINISHED, RunStore

ROOT = Path(__file__).resolve().parent.parent
RAY = str(Path(sys.executable).with_name("ray"))
BASE = RunConfig(dataset="digits", sampler="margin", epochs=3, save_embeddings="all")
GRID = {"classes": [2, 5], "seeds": [0, 1, 2, 3]}


def node_ports() -> list[str]:
    ports = {
        name: free_port()
        for name in (
            "node-manager-port",
            "object-manager-port",
            "dashboard-agent-listen-port",
            "dashboard-agent-grpc-port",
            "runtime-env-agent-port",
            "metrics-export-port",
        )
    }
    arguments = [f"--{name}={port}" for name, port in ports.items()]
    return arguments + ["--worker-port-list=" + ",".join(str(free_port()) for _ in range(12))]


class Node:
    """One `ray start --block` in its own session; killing its group (and descendants) kills the node."""

    def __init__(self, arguments: list[str], home: Path, log: Path, env: dict[str, str]):
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.process = subprocess.Popen(
            [
                RAY,
                "start",
                "--block",
                "--disable-usage-stats",
                "--num-cpus=1",
                "--node-ip-address=127.0.0.1",
                "--object-store-memory=80000000",
                *node_ports(),
                *arguments,
            ],
            env={**env, "WEAKNEG_HOME": str(home)},
            stdout=open(log, "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )

    def descendants(self) -> set[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found, todo = set(), [self.process.pid]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo.extend(children.get(pid, []))
        return found

    def kill(self) -> None:
        for pid in self.descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)


@pytest.fixture
def ray_token():
    """Ray's token authentication with this cluster's own token (never the user's ~/.ray/auth_token). Ray keeps the
    auth mode and token of the first ray.init in process-wide caches: they are reset afterwards, or every later
    local Ray in this test process (tests/test_sweep_ray.py) would present this cluster's token."""
    import ray
    from ray._raylet import AuthenticationTokenLoader, Config

    def reload() -> None:  # the cached config first, then the token cache (Ray's own order)
        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()

    token = secrets.token_hex(32)
    saved = {name: os.environ.get(name) for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    reload()
    try:
        yield token
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reload()


@pytest.fixture
def cluster(tmp_path, ray_token):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WEAKNEG_MAP_METHOD": "pca",
        "OMP_NUM_THREADS": "1",
        "RAY_health_check_period_ms": "1000",
        "RAY_health_check_failure_threshold": "3",
        "RAY_health_check_initial_delay_ms": "1000",
    }
    for name in ("WEAKNEG_STORE", "WEAKNEG_ARTIFACTS", "RAY_ADDRESS"):
        env.pop(name, None)
    temp = Path(f"/tmp/ray-{os.urandom(4).hex()}")  # Ray's socket paths must stay short
    nodes = [
        Node(
            [
                "--head",
                f"--port={port}",
                "--num-cpus=0",
                "--include-dashboard=false",
                f"--ray-client-server-port={free_port()}",
                f"--temp-dir={temp}",
            ],
            tmp_path / "head_home",
            tmp_path / "head.log",
            env,
        )
    ]
    address = f"127.0.0.1:{port}"
    try:
        assert wait_for_nodes(address, 1, nodes, tmp_path), (tmp_path / "head.log").read_text()[-3000:]
        for count, name in enumerate(("worker_a", "worker_b"), start=2):
            for _attempt in range(3):  # a node gives up when its raylet takes over 30 s to register (busy machine)
                node = Node([f"--address={address}"], tmp_path / f"{name}_home", tmp_path / f"{name}.log", env)
                nodes.append(node)
                if wait_for_nodes(address, count, nodes, tmp_path):
                    break
                nodes.pop().kill()
            else:
                raise AssertionError(f"worker node {name} did not start: {(tmp_path / f'{name}.log').read_text()}")
        yield address, nodes
    finally:
        for node in reversed(nodes):
            node.kill()
        import shutil

        shutil.rmtree(temp, ignore_errors=True)


def wait_for_nodes(address: str, count: int, nodes: list[Node], tmp_path: Path) -> bool:
    """True once the cluster has `count` live nodes; False when the newest node's process exited."""
    script = (
        "import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(sum(n['Alive'] for n in ray.nodes()))"
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if nodes[-1].process.poll() is not None:
            return False
        alive = subprocess.run(
            [sys.executable, "-c", script, address],
            capture_output=True,
            text=True,
            env={**os.environ, "RAY_ADDRESS": ""},
            timeout=120,
        )
        if alive.returncode == 0 and alive.stdout.strip().splitlines()[-1:] == [str(count)]:
            return True
        time.sleep(2)
    raise AssertionError(f"the Ray cluster did not reach {count} nodes")


REFERENCE = """
import json, sys, torch
from weakneg.config import RunConfig
from weakneg.jobs import after_epoch_hook
from weakneg.store import RunStore
from weakneg.train import run_experiment

torch.set_num_threads(1)  # as in the Ray task (num_cpus=1)
store = RunStore(sys.argv[2])
for config in json.loads(sys.argv[1]):
    run_id = store.create_run(config)
    hook = after_epoch_hook(store, run_id)
    run_experiment(RunConfig.from_dict(config), store, run_id, on_epoch=hook)
    print(run_id)
"""

APP_READ = """
import sys
from weakneg import projection
from weakneg.store import RunStore
from weakneg.views.inspect import epoch_view

store = RunStore(sys.argv[1])
for run in store.list_runs(sweep_id=sys.argv[2]):
    for epoch in range(1, run.epochs_done + 1):
        view = epoch_view(store, run.id, epoch)
        assert view is not None and view.method == "pca" and len(view.pool) == run.pool_size, (run.id, epoch)
        assert projection.load_map(store, run.id, epoch, "pca") is not None  # the worker's map, from the database
print("read", len(store.list_runs(sweep_id=sys.argv[2])))
"""


@pytest.mark.slow
def test_a_multi_node_sweep_survives_a_lost_node(cluster, postgres_url, tmp_path, monkeypatch):  # noqa: F811
    from weakneg.sweep import SweepConfig, run_sweep

    address, nodes = cluster
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    store = RunStore(postgres_url, artifacts=tmp_path / "driver_artifacts")
    victim = nodes[1]
    lost: dict[int, int] = {}  # run id -> epochs recorded when its node was killed

    def kill_a_node_mid_run() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            on_victim = [
                r
                for r in store.list_runs(sweep_id="cluster")
                if r.stored_status == "running" and r.pid in victim.descendants()
            ]
            if any(r.epochs_done >= 1 for r in on_victim):
                victim.kill()
                lost.update({r.id: r.epochs_done for r in on_victim})
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_a_node_mid_run)
    killer.start()
    started = time.monotonic()
    sweep = SweepConfig(base=BASE, grid=GRID, backend="ray", address=address, num_cpus=1, retries=2)
    result = run_sweep(sweep, store, sweep_id="cluster", poll_s=0.5)
    wall = time.monotonic() - started
    killer.join()
    print(
        f"MULTI-NODE: sweep {result.status} in {wall:.0f} s; node killed with runs {lost} (run id: epochs "
        f"recorded) in flight; counts {result.counts}"
    )
    assert lost, "the worker node was never killed mid-run"

    runs = store.list_runs(sweep_id="cluster")
    assert result.status == FINISHED and len(runs) == 8
    for run in runs:  # every run finished once, with one final result
        assert run.status == FINISHED and run.epochs_done == 3 and run.result == {"best_epoch": None}
        assert [e.epoch for e in store.epochs(run.id)] == [1, 2, 3]

    # the killed node's runs, redone elsewhere, equal uninterrupted runs of the same configs
    configs = [store.get_run(i).config for i in sorted(lost)]
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    made = subprocess.run(
        [sys.executable, "-c", REFERENCE, json.dumps(configs), reference_url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "WEAKNEG_MAP_METHOD": "pca", "OMP_NUM_THREADS": "1"},
    )
    assert made.returncode == 0, made.stderr
    reference = RunStore(reference_url)
    for run_id, reference_id in zip(sorted(lost), map(int, made.stdout.split()), strict=True):
        assert_identical(outcome(store, run_id), outcome(reference, reference_id))

    third = tmp_path / "app_home"
    third.mkdir()
    read = subprocess.run(
        [sys.executable, "-c", APP_READ, postgres_url, "cluster"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "WEAKNEG_HOME": str(third)},
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.split()[-1] == "8"
    assert not any(p.is_file() for p in third.rglob("*"))  # nothing was needed (or written) on the app's side
    print("MULTI-NODE: the killed node's runs equal uninterrupted runs; an empty WEAKNEG_HOME read all 8 runs' maps")
