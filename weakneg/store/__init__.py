"""The run store, split by concern after MLflow's tracking store / artifact repository / entities:

- `tables`: the tracking tables (SQLAlchemy Core), the schema the migrations build;
- `queries`: reads of runs, epochs, selections and sweeps (nothing there writes);
- `tracking`: `RunStore`, the writes, on top of the queries;
- `artifacts`: the artifact repository (files beside SQLite, or rows of a server database), one interface;
- `status`: the status names and the status a reader is shown;
- `epoch_record`: the versioned record of an epoch's arrays (one writer, one reader, older versions upgraded);
- `failures`: a failure's cause, kept on a full disk (a record reserved at start-up);
- `retry`: a worker's store calls retried through a short database outage (WEAKNEG_STORE_RETRY_SECONDS);
- `connection`: opening a store's database (URL checks, read-only detection, SQLite settings);
- `opening`: the one store per URL a process keeps, and opening one only when it exists.

Callers import from here: `from weakneg.store import RunStore, FINISHED`.
"""

from .artifacts import CHECKPOINT, ArtifactRepository, CorruptArtifact, DatabaseArtifacts, FileArtifacts
from .connection import check_url
from .epoch_record import BagArrays, EpochArrays, EvidenceArrays, PoolArrays
from .opening import open_existing, open_store
from .records import EpochRecord, EpochSelection, RunRecord, SweepRecord
from .status import (
    ACTIVE,
    CANCELLED,
    DIRECT,
    DONE,
    FAILED,
    FINISHED,
    INTERRUPTED,
    LOCAL,
    QUEUED,
    RAY,
    RUNNING,
    STALE_AFTER_S,
    shown,
    shown_sweep,
)
from .tables import EPOCH_FIELDS, artifacts, epochs, metadata, runs, selections, store_meta, sweeps
from .tracking import RunStore

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "CHECKPOINT",
    "DIRECT",
    "DONE",
    "EPOCH_FIELDS",
    "FAILED",
    "FINISHED",
    "INTERRUPTED",
    "LOCAL",
    "QUEUED",
    "RAY",
    "RUNNING",
    "STALE_AFTER_S",
    "ArtifactRepository",
    "BagArrays",
    "EpochArrays",
    "EvidenceArrays",
    "PoolArrays",
    "CorruptArtifact",
    "DatabaseArtifacts",
    "EpochRecord",
    "EpochSelection",
    "RunRecord",
    "SweepRecord",
    "FileArtifacts",
    "RunStore",
    "artifacts",
    "check_url",
    "epochs",
    "metadata",
    "open_existing",
    "open_store",
    "runs",
    "selections",
    "shown",
    "shown_sweep",
    "store_meta",
    "sweeps",
]
