"""A run's own data files: readable where the run executes, and fingerprinted (sha256 of their bytes).

The cluster rule: a run reads the user's files by path on whichever machine executes it, so the path must
name the same files on every node (a shared file system, e.g. NFS under the same mount point). A worker
that cannot read the path refuses with a message saying so; a worker that reads different bytes than the
ones the run was configured with refuses too (the fingerprint recorded in the run's dataset options).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
import hashlib
import socket
from pathlib import Path

from ..errors import ConfigError

CHUNK = 1 << 20


def check_readable(path: str | Path) -> Path:
    """The path, if a file this process can open; else a ConfigError naming the cluster rule."""
    path = Path(path).expanduser()
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except IsADirectoryError:
        return path
    except OSError as error:
        raise ConfigError(
            f"{path} cannot be read on {socket.gethostname()} ({error.strerror or error}) - your own "
            f"data must sit on a path every machine that runs it can read (a shared file system)"
        ) from error
    return path


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, stamp: tuple) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(paths: Sequence[str | Path]) -> str:
    """sha256 over the files' bytes (in the given order, names excluded): equal exactly when the data are."""
    digest = hashlib.sha256()
    for path in paths:
        path = check_readable(path)
        stat = path.stat()
        digest.update(_file_digest(str(path.resolve()), (stat.st_mtime_ns, stat.st_size)).encode())
    return "sha256:" + digest.hexdigest()


def check_fingerprint(options: dict, paths: Sequence[str | Path]) -> str:
    """The data's fingerprint; refuses when the options carry another one (the files changed since the run was
    configured, or this machine sees other files under the same path). Records it in options when absent, so
    the stored run config carries it."""
    current = fingerprint(paths)
    recorded = options.get("fingerprint")
    if recorded and recorded != current:
        raise ConfigError(
            f"the data files {', '.join(map(str, paths))} are not the ones this run was configured "
            f"with (fingerprint {recorded[:19]}..., now {current[:19]}...): they changed, or this "
            f"machine sees other files under the same path"
        )
    options["fingerprint"] = current
    return current
