"""umap-learn's numba functions are compiled once per machine, not once per process (weakneg/numba_cache.py)."""

import json
import os
import subprocess
import sys

import pytest

FIRST_MAP = """
import json, numpy as np
from numba.core.registry import CPUDispatcher
from weakneg import projection
projection.umap_map(np.random.default_rng(0).normal(size=(200, 50)).astype(np.float32))
import umap.umap_, umap.layouts
print(json.dumps({name: [sum(v.stats.cache_hits.values()), sum(v.stats.cache_misses.values())]
                  for m in (umap.umap_, umap.layouts) for name, v in vars(m).items()
                  if isinstance(v, CPUDispatcher) and v.signatures}))
"""


# the map's costly compiles: its neighbour graph and its layout optimisation
COSTLY = ("smooth_knn_dist", "compute_membership_strengths", "_nb_optimize_layout_euclidean_single_epoch")


def first_map(cache_dir):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", FIRST_MAP], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_second_process_loads_umaps_compiled_functions_instead_of_compiling_them(tmp_path):
    fresh = first_map(tmp_path)
    assert all(fresh[name] == [0, 1] for name in COSTLY), fresh  # compiled in the first process, then saved
    assert any(tmp_path.rglob("*.nbi")), "numba wrote no cache index"
    again = first_map(tmp_path)
    assert all(again[name] == [1, 0] for name in COSTLY), again  # loaded from the cache, not compiled again


def test_only_functions_without_a_cache_are_switched_and_each_module_once():
    pytest.importorskip("umap")
    from numba.core.registry import CPUDispatcher

    import umap.layouts

    from weakneg.numba_cache import cache_compiled

    cache_compiled("umap")
    jitted = [v for v in vars(umap.layouts).values() if isinstance(v, CPUDispatcher)]
    assert jitted and all(type(v._cache).__name__ != "NullCache" for v in jitted)
    assert cache_compiled("umap") == 0  # already done: nothing switched twice


def test_a_machine_where_numba_may_not_write_compiles_as_before(monkeypatch):
    """numba raises RuntimeError when no cache folder can be written: the map then compiles, as before."""
    pytest.importorskip("umap")
    import sys

    from numba.core.registry import CPUDispatcher

    import umap.umap_  # noqa: F401

    from weakneg import numba_cache

    def refuse(self):
        raise RuntimeError("cannot cache function: no locator available")

    monkeypatch.setattr(CPUDispatcher, "enable_caching", refuse)
    monkeypatch.setattr(numba_cache, "_done", set())
    assert numba_cache.cache_compiled("umap") == 0
    assert "umap.umap_" in numba_cache._done and "umap" in sys.modules
