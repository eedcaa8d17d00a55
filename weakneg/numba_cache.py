"""On-disk caching for the numba functions of libraries that compile without it (umap-learn).

umap-learn's own `@numba.njit` functions are compiled anew in every process: its first map took 8-12 s of CPU in
each new worker, every sweep worker paying it again. Numba can keep what it compiled beside the source (or in
its user cache folder when that is read-only) and load it in later processes (the first map then takes about
0.3 s); `cache=True` would ask for that in the library, `enable_caching` asks for it from outside. The compiled
code is the same, so the maps are too.
"""

from __future__ import annotations

import sys
import threading

_lock = threading.Lock()
_done: set[str] = set()


def cache_compiled(*packages: str) -> int:
    """Ask numba to cache every jitted function of these imported packages that does not cache yet (before
    their first call compiles them); returns how many. Functions made at call time are not reached."""
    from numba.core.registry import CPUDispatcher

    count = 0
    with _lock:
        for name, module in list(sys.modules.items()):
            if module is None or name in _done or name.split(".")[0] not in packages:
                continue
            _done.add(name)
            for value in list(vars(module).values()):
                if isinstance(value, CPUDispatcher) and type(getattr(value, "_cache", None)).__name__ == "NullCache":
                    try:
                        value.enable_caching()
                    except RuntimeError:  # numba finds no folder it may write: it compiles as before
                        continue
                    count += 1
    return count
