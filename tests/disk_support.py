"""A really full disk for tests: a 30 MB tmpfs (mounting needs root; elsewhere the test says why it skips) and a
filler that writes zeros until the file system says it is full."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def small_tmpfs(folder: Path):
    """Mount a 30 MB tmpfs on `folder` (a generator for a fixture: yields the mount, unmounts after)."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a 30 MB tmpfs here ({done.stderr.decode().strip()}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write zeros until the file system says it is full."""
    filler = folder / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (256 * 1024))
                handle.flush()
        except OSError as error:
            assert error.errno == 28
    return filler
