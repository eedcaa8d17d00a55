"""weakneg runs in MLflow: params (the whole config, flattened), per-epoch metrics (step = epoch), final metrics,
tags (sampler, dataset, class, seed, sweep, status) and small files; a sweep becomes a parent run holding the
report's files, its runs its children.

An MLflow run is found again by two tags, the weakneg run id and the store's own id, so exporting twice (or
exporting a run that `--track mlflow` followed live) updates that run: no duplicates, and an epoch already
logged is not logged again. Imported only by `export mlflow` and `run --track mlflow` (mlflow-skinny is an extra).
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..errors import ConfigError, WeaknegError
from ..store import EpochRecord, RunRecord, RunStore

EXPERIMENT = "weakneg"
RUN_TAG, STORE_TAG, SWEEP_TAG = "weakneg.run_id", "weakneg.store_id", "weakneg.sweep_id"
STATUS = {"finished": "FINISHED", "failed": "FAILED", "cancelled": "KILLED", "interrupted": "KILLED"}
NOT_METRICS = {"run_id", "epoch"}
BATCH = 1000  # MLflow's log_batch takes at most 1000 metrics per call


@dataclass(frozen=True)
class Exported:
    weakneg_id: int | str  # a run id, or a sweep id for a sweep's parent run
    mlflow_id: str
    created: bool  # False: an earlier export's run was updated


def connect(tracking_uri: str | None = None, experiment: str | None = None) -> tuple[MlflowClient, str]:
    """(client, experiment id), making the experiment when it is new; one line when MLflow cannot be reached."""
    name = experiment or EXPERIMENT
    where = tracking_uri or "MLflow's default tracking URI"
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        where = client.tracking_uri
        found = client.get_experiment_by_name(name)
        if found is not None:
            return client, found.experiment_id
        return client, client.create_experiment(name, artifact_location=artifact_location(client.tracking_uri))
    except MlflowException as error:
        if "filesystem tracking backend" in str(error):  # MLflow 3 keeps file stores for old data only
            raise ConfigError(
                f"MLflow {mlflow_version()} refuses a file store ({where}) unless MLFLOW_ALLOW_FILE_STORE=true; "
                f"use a database, e.g. --tracking-uri sqlite:///mlflow.db"
            ) from None
        raise ConfigError(f"MLflow at {where}: {first_line(error)}") from None


def mlflow_version() -> str:
    import mlflow

    return mlflow.__version__


def artifact_location(tracking_uri: str) -> str | None:
    """Files beside a SQLite tracking database (MLflow would put them under the current folder: ./mlruns)."""
    if not tracking_uri.startswith("sqlite:"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(tracking_uri).database
    if not database or database == ":memory:":
        return None
    return (Path(database).expanduser().resolve().parent / "mlartifacts").as_uri()


def first_line(error: Exception) -> str:
    text = (getattr(error, "message", None) or str(error)).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= 300 else line[:297] + "..."


# --- what a weakneg run is in MLflow -----------------------------------------------------------------------------


def params_of(config: dict[str, Any]) -> dict[str, str]:
    """The config flattened: `dataset_options.path`, `sampler_params.label`, ...; values as text (JSON for
    non-text, so `null`, `true` and lists read back unambiguously)."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": _text(v) for k, v in value.items()})
            if not value:
                flat[key] = "{}"
        else:
            flat[key] = _text(value)
    return flat


def tags_of(run: RunRecord, store_id: str) -> dict[str, str]:
    name = f"{run.sampler} {run.dataset}:{run.target_name or run.target_class} seed {run.seed}"
    return {
        RUN_TAG: str(run.id),
        STORE_TAG: store_id,
        "sampler": str(run.sampler),
        "dataset": str(run.dataset),
        "class": str(run.target_name if run.target_name is not None else run.target_class),
        "seed": str(run.seed),
        "sweep": run.sweep_id or "",
        "status": str(run.status),
        "mlflow.runName": run.name or f"{name} (#{run.id})",
    }


def epoch_metrics(record: dict[str, Any]) -> dict[str, float]:
    """An epoch record's numbers (AP, AUC, d', losses, counts, seconds per phase); None and text left out."""
    return {
        key: float(value)
        for key, value in record.items()
        if key not in NOT_METRICS and isinstance(value, (int, float)) and value is not None
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


@overload
def _ms(seconds: float) -> int: ...
@overload
def _ms(seconds: float | None) -> int | None: ...
def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


# --- export ------------------------------------------------------------------------------------------------------


def find_run(client: MlflowClient, experiment_id: str, tags: dict[str, str]) -> str | None:
    """The MLflow run an earlier export (or live tracking) made with these identifying tags."""
    query = " and ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())
    found = client.search_runs([experiment_id], query, max_results=1)
    return found[0].info.run_id if found else None


def export_runs(
    store: RunStore,
    run_ids: Iterable[int],
    tracking_uri: str | None = None,
    experiment: str | None = None,
    parent: str | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Exported]:
    """Each run into MLflow (made, or updated when exported before). Unknown ids are refused before any write."""
    run_ids = list(run_ids)
    rows = {i: store.get_run(i) for i in run_ids}
    missing = [i for i, row in rows.items() if row is None]
    if missing:
        raise WeaknegError(f"no run {', '.join(map(str, missing))} in {store.url}; `python -m weakneg list` shows them")
    found = {i: row for i, row in rows.items() if row is not None}  # every one, after the check above
    client, experiment_id = connect(tracking_uri, experiment)
    store_id = store.store_id
    out = []
    for run_id in run_ids:
        out.append(export_run(client, experiment_id, store, found[run_id], store_id, parent))
        if log:
            log(f"run {run_id} -> MLflow run {out[-1].mlflow_id} ({'new' if out[-1].created else 'updated'})")
    return out


def export_run(
    client: MlflowClient,
    experiment_id: str,
    store: RunStore,
    run: RunRecord,
    store_id: str,
    parent: str | None = None,
) -> Exported:
    tags = tags_of(run, store_id)
    if parent:
        tags["mlflow.parentRunId"] = parent
    mlflow_id = find_run(client, experiment_id, {RUN_TAG: tags[RUN_TAG], STORE_TAG: store_id})
    created = mlflow_id is None
    if mlflow_id is None:
        mlflow_id = client.create_run(
            experiment_id, start_time=_ms(run.started_at or run.created_at), tags=tags
        ).info.run_id
    epochs = store.epochs(run.id)
    write_run(client, mlflow_id, run, tags, epochs)
    with tempfile.TemporaryDirectory(prefix="weakneg-mlflow-") as folder:
        client.log_artifacts(mlflow_id, str(run_files(Path(folder), run, epochs)), "weakneg")
    finish(client, mlflow_id, run)
    return Exported(run.id, mlflow_id, created)


def write_run(
    client: MlflowClient, mlflow_id: str, run: RunRecord, tags: dict[str, str], epochs: list[EpochRecord]
) -> None:
    """Params, tags, the epochs not logged yet (step = epoch) and the final metrics."""
    logged = client.get_run(mlflow_id).data
    params = [Param(k, v) for k, v in params_of(run.config).items() if k not in logged.params]
    done = {key: logged_steps(client, mlflow_id, key) for key in logged.metrics}
    metrics = [
        Metric(key, value, _ms(run.finished_at or time.time()), e.epoch)
        for e in epochs
        for key, value in epoch_metrics(e.to_dict()).items()
        if e.epoch not in done.get(key, ())
    ]
    last = max((e.epoch for e in epochs), default=0)
    for name in ("final_ap", "final_auc", "final_dprime"):
        if getattr(run, name) is not None and last not in done.get(name, ()):
            metrics.append(Metric(name, float(getattr(run, name)), _ms(run.finished_at or time.time()), last))
    client.log_batch(mlflow_id, params=params[:100], tags=[RunTag(k, v) for k, v in tags.items()])
    for start in range(100, len(params), 100):  # MLflow takes at most 100 params per batch
        client.log_batch(mlflow_id, params=params[start : start + 100])
    for start in range(0, len(metrics), BATCH):
        client.log_batch(mlflow_id, metrics=metrics[start : start + BATCH])


def logged_steps(client: MlflowClient, mlflow_id: str, key: str) -> set[int]:
    return {m.step for m in client.get_metric_history(mlflow_id, key)}


def run_files(folder: Path, run: RunRecord, epochs: list[EpochRecord]) -> Path:
    """run.json (config, status, summary, error) and epochs.csv: what the run's MLflow page offers as files."""
    keep = ("id", "name", "status", "dataset", "target_name", "sampler", "seed", "sweep_id", "error", "result")
    (folder / "run.json").write_text(
        json.dumps({**{k: getattr(run, k) for k in keep}, "config": run.config}, indent=2, default=str)
    )
    with open(folder / "epochs.csv", "w", newline="") as handle:
        rows = [e.to_dict() for e in epochs]
        columns = list(rows[0]) if rows else ["epoch"]
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def finish(client: MlflowClient, mlflow_id: str, run: RunRecord) -> None:
    status = STATUS.get(run.status)
    if status is None:  # queued or running: still going
        client.update_run(mlflow_id, status="RUNNING")
    else:
        client.set_terminated(mlflow_id, status, end_time=_ms(run.finished_at))


def export_sweep(
    store: RunStore,
    sweep_id: str,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Exported]:
    """A sweep's parent run (the report's files, when it has finished runs) and each of its runs as a child."""
    from ..report import write_report

    sweep = store.get_sweep(sweep_id)
    if sweep is None:
        raise WeaknegError(f"no sweep {sweep_id!r} in {store.url}; `python -m weakneg sweeps` lists them")
    run_ids = sorted(r.id for r in store.list_runs(sweep_id=sweep_id))
    client, experiment_id = connect(tracking_uri, experiment)
    store_id = store.store_id
    ids = {SWEEP_TAG: sweep_id, STORE_TAG: store_id}
    parent = find_run(client, experiment_id, ids)
    created = parent is None
    if parent is None:
        tags = {**ids, "sweep": sweep_id, "mlflow.runName": f"sweep {sweep_id}"}
        parent = client.create_run(experiment_id, start_time=_ms(sweep.created_at), tags=tags).info.run_id
    client.log_batch(parent, tags=[RunTag("status", str(sweep.status)), RunTag("runs", str(len(run_ids)))])
    with tempfile.TemporaryDirectory(prefix="weakneg-report-") as folder:
        try:
            write_report(store, sweep_id, folder)
        except WeaknegError as error:  # no finished runs yet: the runs go over, the report later
            if log:
                log(f"sweep {sweep_id}: no report files ({error})")
        else:
            client.log_artifacts(parent, folder, "report")
    out = [Exported(sweep_id, parent, created)]
    if log:
        log(f"sweep {sweep_id} -> MLflow run {parent} ({'new' if created else 'updated'})")
    for run_id in run_ids:
        out.append(export_run(client, experiment_id, store, store.existing_run(run_id), store_id, parent))
        if log:
            log(f"run {run_id} -> MLflow run {out[-1].mlflow_id} ({'new' if out[-1].created else 'updated'})")
    done = sweep.status in ("finished", "failed", "cancelled")
    client.set_terminated(parent, STATUS.get(sweep.status, "FINISHED")) if done else None
    return out


# --- live: `run --track mlflow` ---------------------------------------------------------------------------------


class LiveMlflowRun:
    """Follows one run as it trains: the MLflow run is made at the start, each epoch's metrics are logged as the
    epoch ends, and the end exports the whole run (final metrics, status, files) into the same MLflow run.
    A tracker that fails says so once (`on_problem`) and stops: the run itself goes on."""

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        on_problem: Callable[[str], None] | None = None,
    ):
        self.client, self.experiment_id = connect(tracking_uri, experiment)
        self.on_problem = on_problem
        self.mlflow_id: str | None = None
        self.broken = False

    def start(self, store: RunStore, run_id: int) -> None:
        def begin():
            run = store.existing_run(run_id)
            tags = tags_of(run, store.store_id)
            mlflow_id = self.client.create_run(
                self.experiment_id, start_time=_ms(run.created_at), tags=tags
            ).info.run_id
            self.mlflow_id = mlflow_id
            write_run(self.client, mlflow_id, run, tags, [])

        self._safely(begin)

    def log_epoch(self, record: dict[str, Any]) -> None:
        mlflow_id = self.mlflow_id
        if mlflow_id is None:
            return
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, int(record["epoch"])) for k, v in epoch_metrics(record).items()]
        self._safely(lambda: self.client.log_batch(mlflow_id, metrics=metrics))

    def end(self, store: RunStore, run_id: int) -> None:
        if self.mlflow_id is None:
            return
        self._safely(
            lambda: export_run(self.client, self.experiment_id, store, store.existing_run(run_id), store.store_id)
        )

    def _safely(self, step: Callable[[], object]) -> None:
        if self.broken:
            return
        try:
            step()
        except Exception as error:  # a tracker outage must not end a training run
            self.broken = True
            if self.on_problem:
                self.on_problem(f"MLflow tracking stopped: {first_line(error)}; the run goes on (export it later)")
