"""A failure's cause, kept when nothing else can be written (a full disk, a database that is down).

At start-up a worker reserves its failure record: a file of RESERVED_BYTES in the run's folder, allocated while
there is room. Recording a failure overwrites those blocks in place and renames the file to `failure.json` (no
new blocks either way); the dispatcher records it in the store once the store takes writes again. The cause
never needs the database: the path is known from start-up."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

RESERVED_BYTES = 64 * 1024
RESERVED_NAME, SIDECAR_NAME = "failure.reserved", "failure.json"


def reserve(folder: Path) -> Path:
    """Allocate the run's failure record now, while the disk has room. Returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESERVED_NAME
    with open(path, "wb") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, RESERVED_BYTES)
        except (AttributeError, OSError):  # a file system without fallocate: write the blocks instead
            handle.write(b" " * RESERVED_BYTES)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def write(folder: Path, cause: str, traceback_text: str = "") -> Path:
    """Write the cause into the reserved record (or, without one, a new file) and name it failure.json."""
    reserved, sidecar = folder / RESERVED_NAME, folder / SIDECAR_NAME
    payload = {"error": cause[:4000], "time": time.time(), "traceback": traceback_text[-(RESERVED_BYTES // 2) :]}
    data = json.dumps(payload).encode()
    if not reserved.is_file():  # no reservation (a worker started before it existed): a new file, if it fits
        folder.mkdir(parents=True, exist_ok=True)
        sidecar.write_bytes(data)
        return sidecar
    with open(reserved, "r+b") as handle:  # in place: the blocks are already allocated
        handle.write(data[:RESERVED_BYTES])
        handle.truncate(len(data[:RESERVED_BYTES]))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(reserved, sidecar)
    return sidecar


def release(folder: Path) -> None:
    """The run ended without a failure to record: give the reserved blocks back."""
    (folder / RESERVED_NAME).unlink(missing_ok=True)
