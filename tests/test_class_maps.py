"""UMAP maps of one class of a multi-label run, drawn on request (`class-maps`, Inspect's button): every saved
epoch's map of that class's negatives and positives, each aligned to the one before, shown by Inspect in place of
the PCA map; drawn once; a clear line for a run or class it cannot serve; the page's button draws them in the
background and the page shows them when they land."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from weakneg import class_maps, liveness, projection, views
from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.store import RunStore
from weakneg.train import run_experiment

APP = Path(__file__).resolve().parent.parent / "app.py"
CFG = RunConfig(dataset="digits", target_class="0,5,8", sampler="badge", epochs=2, bag_size=2, seed=1)


@pytest.fixture(scope="module")
def multilabel_run(tmp_path_factory):
    """(store URL, run id) of a 3-class digits run with every epoch's class pools saved."""
    store = RunStore(f"sqlite:///{tmp_path_factory.mktemp('class_maps') / 'runs.db'}")
    return store, run_experiment(CFG, store).run_id


def test_a_classs_maps_are_drawn_once_aligned_and_shown_by_inspect(multilabel_run, capsys):
    store, run_id = multilabel_run
    assert views.class_epoch_view(store, run_id, 2, 1).method == "pca"  # before: PCA, in memory
    assert main(["class-maps", str(run_id), "--class", "5", "--store", store.url]) == 0
    assert "2 UMAP map(s) drawn, 0 already there" in capsys.readouterr().out
    assert class_maps.drawn_epochs(store, run_id, 1) == [1, 2] and class_maps.drawn_epochs(store, run_id, 0) == []
    first, second = class_maps.load(store, run_id, 1, 1), class_maps.load(store, run_id, 2, 1)
    points, _ = class_maps.class_points(store, run_id, 2, 1)
    assert second.shape == (len(points), 2) and np.isfinite(second).all()
    # epoch 2's map is already aligned to epoch 1's: aligning it again moves it by little
    realigned = projection.procrustes_align(second, first)
    assert np.abs(realigned - second).max() < 1e-3 * np.ptp(second)
    view = views.class_epoch_view(store, run_id, 2, 1)
    assert view.method == "umap"
    np.testing.assert_allclose(view.frame[["x", "y"]].to_numpy(), second, rtol=1e-6)
    assert views.class_epoch_view(store, run_id, 2, 0).method == "pca"  # the other classes are not drawn
    assert [class_maps.best_method(store, run_id, 2, c) for c in (0, 1)] == ["pca", "umap"]
    assert main(["class-maps", str(run_id), "--class", "5", "--store", store.url]) == 0
    assert "0 UMAP map(s) drawn, 2 already there" in capsys.readouterr().out
    assert not class_maps.marker_path(store, run_id, 1).exists() and not class_maps.drawing(store, run_id, 1)


def test_the_drawing_marker_counts_only_a_live_process(multilabel_run):
    store, run_id = multilabel_run
    marker = class_maps.marker_path(store, run_id, 2)
    marker.write_text(json.dumps(liveness.identity()))
    assert class_maps.drawing(store, run_id, 2)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    marker.write_text(json.dumps(liveness.identity(ended.pid) | {"process_start": "gone:0"}))
    assert not class_maps.drawing(store, run_id, 2)  # a killed drawer's marker does not block a new one
    marker.unlink()
    assert not class_maps.drawing(store, run_id, 2)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--class", "7"], r"trains no class '7'; its classes: 0, 5, 8"),
        (["--class", "0", "RUN+99"], r"there is no run"),
    ],
)
def test_a_class_or_run_it_cannot_serve_is_one_line(multilabel_run, capsys, arguments, message):
    store, run_id = multilabel_run
    run = str(run_id + 99) if "RUN+99" in arguments else str(run_id)
    code = main(["class-maps", run, *[a for a in arguments if a != "RUN+99"], "--store", store.url])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert re.search(message, err), err


def test_a_binary_run_is_told_its_worker_draws_its_maps(store, capsys):
    run_id = run_experiment(RunConfig(dataset="digits", target_class=3, epochs=1), store).run_id
    assert main(["class-maps", str(run_id), "--class", "3", "--store", store.url]) == 2
    assert "trains one class, and its worker draws its maps itself" in capsys.readouterr().err


@pytest.mark.slow
def test_the_inspect_pages_button_draws_the_classs_maps_in_the_background():
    store = RunStore()  # the default store of this test's home: the page's
    run_id = run_experiment(CFG.replace(epochs=1), store).run_id

    def page() -> AppTest:
        app = AppTest.from_file(str(APP), default_timeout=90)
        app.switch_page("app_pages/inspect.py")
        app.query_params["run"] = str(run_id)
        app.session_state[f"class_{run_id}"] = 2
        app = app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    app = page()
    assert any("PCA map" in m.value for m in app.markdown)
    button = next(b for b in app.button if b.label == "Draw this class's UMAP maps")
    button.click().run()
    deadline = time.monotonic() + 240
    while class_maps.drawn_epochs(store, run_id, 2) != [1]:
        assert time.monotonic() < deadline, (store.run_dir(run_id) / "class_002_maps.log").read_text()
        time.sleep(1)
    while class_maps.drawing(store, run_id, 2):  # its marker goes as it exits
        assert time.monotonic() < deadline
        time.sleep(0.2)
    app = page()
    assert any("UMAP map" in m.value for m in app.markdown)
    assert not any(b.label == "Draw this class's UMAP maps" for b in app.button)
