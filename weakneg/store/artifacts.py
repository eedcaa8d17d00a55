"""The artifact repository: a run's named blobs (epoch arrays, maps, the resume checkpoint), kept as files beside
a SQLite store or as rows of a server database's `artifacts` table, behind one interface. The run store never
knows which.

Keys are (store id, run id, name): a recreated store gets a new id, so its run 1 never meets an old run 1's
files. Every backend also has a local folder per run (`run_dir`) for what only this machine needs: the worker's
log and its failure sidecar."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from ..errors import WeaknegError
from .tables import artifacts

CHECKPOINT = "checkpoint.pt"
PARTIAL = ".partial"


class CorruptArtifact(WeaknegError):
    """A stored array file cannot be read; the message names it and what to do."""


class ArtifactRepository:
    """Named blobs per run. Subclasses keep the bytes; this class adds the local folder and the arrays."""

    def __init__(self, root: Path, store_id: Callable[[], str]):
        self.root = Path(root)
        self._store_id = store_id  # read lazily: a read-only store's id costs a query only when needed

    # --- what a backend implements ----------------------------------------------------------------------

    def save(self, run_id: int, name: str, data: bytes) -> None:
        """Write one named blob atomically (a reader sees the old one or the new one, never half of it)."""
        raise NotImplementedError

    def load(self, run_id: int, name: str) -> bytes | None:
        raise NotImplementedError

    def names(self, run_id: int) -> list[str]:
        raise NotImplementedError

    def exists(self, run_id: int, name: str) -> bool:
        raise NotImplementedError

    def delete(self, run_id: int, name: str) -> None:
        raise NotImplementedError

    def delete_all(self, run_id: int) -> None:
        """Every blob of the run, and its local folder."""
        shutil.rmtree(self.run_dir(run_id, create=False), ignore_errors=True)

    def where(self, run_id: int, name: str) -> str:
        """Where a blob is, in words a person can act on."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------------------

    def run_dir(self, run_id: int, create: bool = True) -> Path:
        """The run's local folder (its worker.log, failure sidecar and, with files, its blobs)."""
        folder = self.root / self._store_id() / str(run_id)
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder

    def save_arrays(self, run_id: int, name: str, **arrays: np.ndarray | np.generic) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=True, **arrays)  # numpy's default, said: no array may take that name
        self.save(run_id, name, buffer.getvalue())

    def load_arrays(self, run_id: int, name: str) -> dict[str, np.ndarray] | None:
        data = self.load(run_id, name)
        if data is None:
            return None
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as loaded:
                return {k: loaded[k] for k in loaded.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as error:
            raise CorruptArtifact(
                f"{self.where(run_id, name)} is corrupt or truncated ({type(error).__name__}: {error}); delete it "
                f"and resume the run (`python -m weakneg resume {run_id}`) to rewrite it, or delete the run"
            ) from error

    def delete_after(self, run_id: int, epoch: int) -> None:
        """Forget the epoch arrays and maps after an epoch (what a killed worker wrote after its checkpoint)."""
        for name in self.names(run_id):
            match = re.match(r"(?:epoch|map)_(\d{4})", name)
            if match and int(match.group(1)) > epoch:
                self.delete(run_id, name)


class FileArtifacts(ArtifactRepository):
    """Blobs as files in the run's folder, written to a `.partial` file, synced, then renamed."""

    def save(self, run_id: int, name: str, data: bytes) -> None:
        path = self.run_dir(run_id) / name
        partial = path.with_name(path.name + PARTIAL)
        try:
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # a crash right after the rename still finds the whole file
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)  # a full disk or a kill mid-write leaves no half file behind
            raise

    def load(self, run_id: int, name: str) -> bytes | None:
        path = self.run_dir(run_id, create=False) / name
        return path.read_bytes() if path.is_file() else None

    def names(self, run_id: int) -> list[str]:
        folder = self.run_dir(run_id, create=False)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(PARTIAL))

    def exists(self, run_id: int, name: str) -> bool:
        return (self.run_dir(run_id, create=False) / name).is_file()

    def delete(self, run_id: int, name: str) -> None:
        (self.run_dir(run_id, create=False) / name).unlink(missing_ok=True)

    def where(self, run_id: int, name: str) -> str:
        return str(self.run_dir(run_id, create=False) / name)


class DatabaseArtifacts(ArtifactRepository):
    """Blobs as rows of the server database's `artifacts` table: every node of a cluster and the app reach them
    without a shared filesystem. The run's local folder holds only its log and sidecar."""

    def __init__(self, root: Path, store_id: Callable[[], str], engine: Engine):
        super().__init__(root, store_id)
        self.engine = engine

    def _key(self, run_id: int, name: str):
        return (artifacts.c.run_id == run_id) & (artifacts.c.name == name)

    def save(self, run_id: int, name: str, data: bytes) -> None:
        with self.engine.begin() as db:  # one transaction: a reader sees the old row or the new one
            db.execute(delete(artifacts).where(self._key(run_id, name)))
            db.execute(insert(artifacts).values(run_id=run_id, name=name, data=data, saved_at=time.time()))

    def load(self, run_id: int, name: str) -> bytes | None:
        with self.engine.connect() as db:
            return db.execute(select(artifacts.c.data).where(self._key(run_id, name))).scalar()

    def names(self, run_id: int) -> list[str]:
        with self.engine.connect() as db:
            return sorted(db.execute(select(artifacts.c.name).where(artifacts.c.run_id == run_id)).scalars())

    def exists(self, run_id: int, name: str) -> bool:
        with self.engine.connect() as db:
            found = db.execute(select(func.count()).select_from(artifacts).where(self._key(run_id, name)))
            return found.scalar_one() > 0

    def delete(self, run_id: int, name: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(artifacts).where(self._key(run_id, name)))

    def delete_all(self, run_id: int) -> None:
        with self.engine.begin() as db:
            db.execute(delete(artifacts).where(artifacts.c.run_id == run_id))
        super().delete_all(run_id)

    def where(self, run_id: int, name: str) -> str:
        return f"artifact {name!r} of run {run_id} in {self.engine.url.render_as_string(hide_password=True)}"
