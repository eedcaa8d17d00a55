"""A really full disk for tests: a 30 MB tmpfs (mounting needs root; elsewhere the test says why it skips) and a
filler that writes zeros until the file system says it is full.

The filler's first blocks are written when the tmpfs is mounted, before anything runs there: a run that fills the
disk by itself before the test calls `fill` (a fast machine, 'all' embeddings) must still leave a file whose
removal gives space back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

FILLER_NAME = "filler"
RESERVED_BYTES = 4 * 1024 * 1024
_BLOCK = b"\0" * (256 * 1024)


def small_tmpfs(folder: Path):
    """Mount a 30 MB tmpfs on `folder`, its filler's reserve written (a generator for a fixture: yields the mount,
    unmounts after)."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 30 MB tmpfs here ({done.stderr.decode().strip()}): needs root")
    try:
        with open(folder / FILLER_NAME, "wb") as handle:
            for _ in range(RESERVED_BYTES // len(_BLOCK)):
                handle.write(_BLOCK)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Append zeros to the filler until the file system says it is full (it may be already); removing the file
    gives back at least its reserve."""
    filler = folder / FILLER_NAME
    with open(filler, "ab", buffering=0) as handle:  # unbuffered: nothing left to flush on a full disk at close
        try:
            while True:
                handle.write(_BLOCK)
        except OSError as error:
            assert error.errno == 28, error
    return filler
