"""What a run produced that must not depend on an interruption, and the exact comparison of two runs (the
resume tests and the multi-node sweep share them)."""

from __future__ import annotations

import numpy as np

from weakneg import projection
from weakneg.store import FINISHED


def outcome(store, run_id) -> dict:
    """Statuses, final metrics, every epoch's metrics, selections, arrays and PCA maps (timings excluded)."""
    epochs = [
        {k: v for k, v in e.to_dict().items() if not k.startswith("t_") and k != "run_id"} for e in store.epochs(run_id)
    ]
    run = store.get_run(run_id)
    return {
        "status": run.status,
        "final": (run.final_ap, run.final_auc, run.final_dprime),
        "result": run.result,
        "epochs": epochs,
        "selections": [store.selection(run_id, e["epoch"]) for e in epochs],
        "arrays": [store.load_epoch_arrays(run_id, e["epoch"]) for e in epochs],
        "maps": [projection.load_map(store, run_id, e["epoch"], "pca") for e in epochs],
    }


def assert_identical(got: dict, want: dict, maps: bool = True) -> None:
    assert got["status"] == want["status"] == FINISHED
    assert got["epochs"] == want["epochs"]  # every metric, exactly
    assert got["final"] == want["final"] and got["result"] == want["result"]
    for (ids, scores), (ids0, scores0) in zip(got["selections"], want["selections"], strict=True):
        np.testing.assert_array_equal(ids, ids0)
        np.testing.assert_array_equal(scores, scores0)
    for arrays, arrays0 in zip(got["arrays"], want["arrays"], strict=True):
        assert arrays.keys() == arrays0.keys()
        for key in arrays:
            np.testing.assert_array_equal(arrays[key], arrays0[key])
    if maps:
        for xy, xy0 in zip(got["maps"], want["maps"], strict=True):
            np.testing.assert_array_equal(xy["pool_xy"], xy0["pool_xy"])
