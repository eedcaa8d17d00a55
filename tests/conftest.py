"""Shared fixtures. Every test runs with its own WEAKNEG_HOME so nothing touches the user's data."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    home = tmp_path / "weakneg_home"
    monkeypatch.setenv("WEAKNEG_HOME", str(home))
    for name in ("WEAKNEG_DATA_ROOT", "WEAKNEG_STORE", "WEAKNEG_ARTIFACTS"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def no_workers_left_behind():
    """Whatever a test starts (worker processes, sweep drivers) ends with it, even when the test fails."""
    yield
    from processes import stop_weakneg_processes

    stop_weakneg_processes()


@pytest.fixture
def store(tmp_path):
    from weakneg.store import RunStore

    return RunStore(f"sqlite:///{tmp_path / 'runs.db'}")


@pytest.fixture(scope="session")
def lab_store(tmp_path_factory):
    """A store shaped like a lab's after a while (see app_support.build_lab): (store, the real run's id)."""
    from app_support import build_lab

    return build_lab(tmp_path_factory.mktemp("lab"))
