"""Schema versions: a store made by the first release (no revisions) opens, upgrades itself and keeps every row;
a new store is at the newest revision; the revisions build exactly the schema store.py queries."""

import sqlite3

import numpy as np

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from weakneg import migrations
from weakneg.store import FINISHED, RunStore, metadata

# The DDL SQLAlchemy's create_all wrote for the first release's store.py (sqlite3 runs.db .schema).
FIRST_RELEASE_DDL = """
CREATE TABLE runs (
	id INTEGER NOT NULL,
	kind VARCHAR(16) NOT NULL,
	status VARCHAR(16) NOT NULL,
	dataset VARCHAR(64),
	target_class INTEGER,
	target_name VARCHAR(128),
	sampler VARCHAR(64),
	pn_ratio FLOAT,
	seed INTEGER,
	model VARCHAR(64),
	head VARCHAR(64),
	epochs_total INTEGER,
	epochs_done INTEGER,
	n_pos INTEGER,
	pool_size INTEGER,
	k INTEGER,
	final_ap FLOAT,
	final_auc FLOAT,
	final_dprime FLOAT,
	config JSON NOT NULL,
	result JSON,
	error TEXT,
	sweep_id VARCHAR(64),
	created_at FLOAT,
	started_at FLOAT,
	finished_at FLOAT,
	heartbeat FLOAT,
	pid INTEGER,
	host VARCHAR(255),
	cancel_requested BOOLEAN,
	PRIMARY KEY (id)
);
CREATE INDEX ix_runs_status ON runs (status);
CREATE INDEX ix_runs_sweep_id ON runs (sweep_id);
CREATE TABLE sweeps (
	id VARCHAR(64) NOT NULL,
	status VARCHAR(16) NOT NULL,
	backend VARCHAR(16),
	config JSON NOT NULL,
	n_runs INTEGER,
	created_at FLOAT,
	finished_at FLOAT,
	error TEXT,
	PRIMARY KEY (id)
);
CREATE TABLE epochs (
	run_id INTEGER NOT NULL,
	epoch INTEGER NOT NULL,
	train_loss FLOAT,
	val_loss FLOAT,
	val_ap FLOAT,
	ap FLOAT,
	auc FLOAT,
	dprime FLOAT,
	n_pos INTEGER,
	n_neg INTEGER,
	resampled BOOLEAN,
	t_score FLOAT,
	t_select FLOAT,
	t_train FLOAT,
	t_eval FLOAT,
	PRIMARY KEY (run_id, epoch),
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);
CREATE TABLE selections (
	run_id INTEGER NOT NULL,
	epoch INTEGER NOT NULL,
	rank INTEGER NOT NULL,
	bag_id INTEGER NOT NULL,
	score FLOAT,
	PRIMARY KEY (run_id, epoch, rank),
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);
CREATE INDEX ix_selections_bag ON selections (run_id, bag_id);
"""


def first_release_store(path):
    """A runs.db as the first release left it: one finished run with two epochs and a selection."""
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_RELEASE_DDL)
        db.execute(
            "INSERT INTO runs (id, kind, status, dataset, sampler, seed, config, epochs_done, final_ap, "
            "cancel_requested) VALUES (1, 'run', 'finished', 'digits', 'badge', 3, '{\"seed\": 3}', 2, 0.75, 0)"
        )
        db.executemany("INSERT INTO epochs (run_id, epoch, ap) VALUES (1, ?, ?)", [(1, 0.5), (2, 0.75)])
        db.execute("INSERT INTO selections (run_id, epoch, rank, bag_id, score) VALUES (1, 1, 0, 42, 0.9)")
    return f"sqlite:///{path}"


def test_a_first_release_store_upgrades_itself_and_keeps_every_row(tmp_path):
    url = first_release_store(tmp_path / "runs.db")
    store = RunStore(url)
    assert migrations.current(store.engine) == migrations.head() != migrations.FIRST
    run = store.get_run(1)
    assert (run.status, run.sampler, run.config, run.final_ap) == (FINISHED, "badge", {"seed": 3}, 0.75)
    assert [e.ap for e in store.epochs(1)] == [0.5, 0.75]  # the table copy did not cascade-delete them
    assert store.selection(1, 1)[0].tolist() == [42]
    assert run.archived is False and run.name is None  # the new columns, with their defaults
    store.update_run(1, name="first", tags=["paper"])
    assert store.get_run(1).tags == ["paper"]


def test_a_first_release_runs_files_move_under_the_store_id_and_still_load(tmp_path):
    url = first_release_store(tmp_path / "runs.db")
    legacy = tmp_path / "runs_artifacts"  # the first release's layout: <db stem>_artifacts/<run_id>/
    (legacy / "1").mkdir(parents=True)
    np.savez(legacy / "1" / "epoch_0001.npz", pool_ids=np.array([7, 8, 9]))
    (legacy / "1" / "worker.log").write_text("epoch 1 done\n", encoding="utf-8")
    (legacy / "5").mkdir()  # a folder of a run the store no longer holds: left where it is
    store = RunStore(url)
    assert store.load_epoch_arrays(1, 1)["pool_ids"].tolist() == [7, 8, 9]
    assert (store.run_dir(1, create=False) / "worker.log").read_text(encoding="utf-8") == "epoch 1 done\n"
    assert not (legacy / "1").exists() and (legacy / "5").is_dir()
    assert RunStore(url).load_epoch_arrays(1, 1)["pool_ids"].tolist() == [7, 8, 9]  # a second open finds them too


def test_run_ids_are_never_reused_after_a_delete(tmp_path):
    store = RunStore(first_release_store(tmp_path / "runs.db"))
    second = store.create_run({"seed": 0})
    store.delete_run(second)
    assert store.create_run({"seed": 0}) == second + 1


def test_a_store_at_the_newest_revision_opens_without_writing(tmp_path):
    path = tmp_path / "runs.db"
    RunStore(f"sqlite:///{path}")
    before = path.stat().st_mtime_ns, path.stat().st_size
    store = RunStore(f"sqlite:///{path}")
    store.list_runs()
    assert (path.stat().st_mtime_ns, path.stat().st_size) == before


def test_every_store_gets_an_id_of_its_own(tmp_path):
    a, b = RunStore(f"sqlite:///{tmp_path / 'a.db'}"), RunStore(f"sqlite:///{tmp_path / 'b.db'}")
    assert len(a.store_id) == 32 and a.store_id != b.store_id
    assert RunStore(a.url).store_id == a.store_id


def test_the_revisions_build_exactly_the_schema_the_store_queries(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
