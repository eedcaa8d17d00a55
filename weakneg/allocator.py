"""Keep freed memory for reuse in processes that train, instead of handing it back to the kernel after every step.

glibc's malloc serves each block above its mmap threshold (at most 32 MiB) from fresh pages of its own and
returns them on free, so each training step of the audio CNN, whose activations are tens of MiB, faults in
millions of zeroed pages anew: measured on a 2-core machine, a 13-class soundscapes run spent a third of its
CPU in the kernel (7.7 million minor page faults in 2 epochs) and took 36.6 s; with freed blocks kept in the
heap it took 23.7 s (0.9 s in the kernel), its peak memory 1.49 -> 1.90 GB. Image runs change little (8.6 ->
8.1 s on Fashion-MNIST, peak memory slightly lower). `python -m weakneg bench --throughput` re-measures it.

WEAKNEG_KEEP_FREED_MEMORY=0 leaves malloc as it is (a machine short of memory rather than of CPU).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

SETTING = "WEAKNEG_KEEP_FREED_MEMORY"
TRIM_THRESHOLD = 256 * 1024 * 1024  # free memory above the heap's top is handed back only past this
_M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """From now on serve large blocks from the heap and keep what is freed (see the module's docstring).
    True when set; False where the setting says no or the C library is not glibc (nothing changes there)."""
    if os.environ.get(SETTING, "").strip() == "0":
        return False
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def _glibc_mallopt():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl and others have other knobs)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
