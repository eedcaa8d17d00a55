"""Named selections: bags a person boxed or lassoed on Inspect's map, kept as a named view of one run's epoch that
can be sorted, exported, tagged and opened again by link (`?run=R&epoch=E&selection=ID`).

Kept on their own, beside the run store rather than in its tables (no schema change, easy to move into the store
later): one JSON file per store, `<artifacts root>/<store id>/named_selections.json`, replaced atomically under a
lock, so two tabs saving at once both keep their selection. Reading never writes (no file: no selections). Every
change refuses in read-only mode, as run_actions do."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import limits
from .errors import ConfigError
from .store import RunStore

MAX_NAME, MAX_TAG, MAX_BAGS = 200, 40, 100_000
FILE = "named_selections.json"


@dataclass(frozen=True)
class NamedSelection:
    id: int
    run_id: int
    epoch: int
    name: str
    bag_ids: list[int]
    tags: list[str] = field(default_factory=list)
    created_at: float = 0.0

    def link(self) -> str:
        """The Inspect link that opens it."""
        return f"?run={self.run_id}&epoch={self.epoch}&selection={self.id}"


def _path(store: RunStore) -> Path:
    return store.artifacts_root / store.store_id / FILE


def _read(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"the named selections in {path} cannot be read ({error}); move the file away to start over"
        ) from None


def list_selections(store: RunStore, run_id: int | None = None) -> list[NamedSelection]:
    """Every named selection (of one run), newest first."""
    rows = [NamedSelection(**row) for row in _read(_path(store))]
    return sorted((s for s in rows if run_id is None or s.run_id == run_id), key=lambda s: -s.id)


def get_selection(store: RunStore, selection_id: int) -> NamedSelection | None:
    return next((s for s in list_selections(store) if s.id == selection_id), None)


def save_selection(
    store: RunStore, run_id: int, epoch: int, bag_ids, name: str, tags: list[str] | None = None
) -> NamedSelection:
    """Keep these bags of a run's epoch under a name; returns the new selection (its id opens it by link)."""
    limits.current().refuse_if_readonly("saving selections")
    name = name.strip()
    if not name:
        raise ConfigError("a selection needs a name, e.g. 'hard sevens near the positives'")
    if len(name) > MAX_NAME:
        raise ConfigError(f"a selection name has at most {MAX_NAME} characters, got {len(name)}")
    bags = list(dict.fromkeys(int(b) for b in bag_ids))
    if not bags:
        raise ConfigError("a selection needs at least one bag: box or lasso some on the map first")
    if len(bags) > MAX_BAGS:
        raise ConfigError(f"a selection holds at most {MAX_BAGS:,} bags, got {len(bags):,}")
    if store.get_run(run_id) is None:
        raise ConfigError(f"there is no run {run_id}")
    with _changing(store) as rows:
        new = NamedSelection(
            max((r["id"] for r in rows), default=0) + 1, run_id, int(epoch), name, bags, _tags(tags or []), time.time()
        )
        rows.append(asdict(new))
    return new


def tag_selection(store: RunStore, selection_id: int, tags: list[str]) -> NamedSelection:
    """Add tags to a selection (duplicates dropped)."""
    limits.current().refuse_if_readonly("tagging selections")
    with _changing(store) as rows:
        row = _find(rows, selection_id)
        row["tags"] = _tags(row["tags"] + list(tags))
    return NamedSelection(**row)


def delete_selection(store: RunStore, selection_id: int) -> None:
    limits.current().refuse_if_readonly("deleting selections")
    with _changing(store) as rows:
        rows.remove(_find(rows, selection_id))


def _tags(tags: list[str]) -> list[str]:
    long = [t for t in tags if len(t.strip()) > MAX_TAG]
    if long:
        raise ConfigError(f"a tag has at most {MAX_TAG} characters: {long[0][:50]!r}")
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


def _find(rows: list[dict], selection_id: int) -> dict:
    row = next((r for r in rows if r["id"] == selection_id), None)
    if row is None:
        raise ConfigError(f"there is no selection {selection_id}")
    return row


@contextlib.contextmanager
def _changing(store: RunStore):
    """The rows under an exclusive lock; written back atomically (temporary file, then rename) when the block ends."""
    path = _path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = _read(path)
        yield rows
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".selections-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(rows, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
