"""Inspect follows a live run in Debian's Chromium: the tab opened while the run is still queued shows the run's
PCA maps as the worker saves them, the epoch slider ends on the last epoch, and the PCA map becomes the UMAP map
when the worker's UMAP thread (numba compiles on its first use in the worker: tens of seconds) saves it. Nothing is
reloaded.

A real worker started through jobs.dispatch, with the map method a user gets (UMAP: WEAKNEG_MAP_METHOD unset)."""

import re

import pytest
from browser_support import chromium_page, streamlit_app, wait_until_charts_drawn

from weakneg import jobs, projection
from weakneg.config import RunConfig
from weakneg.store import RunStore

pytestmark = pytest.mark.slow
EPOCHS = 6


def test_an_open_inspect_tab_follows_the_run_to_its_last_epoch_and_umap_map(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WEAKNEG_HOME", str(home))
    monkeypatch.delenv("WEAKNEG_MAP_METHOD", raising=False)  # what a user gets: UMAP after PCA
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")  # the server queues; the test starts the worker itself
    assert projection.map_method() == "umap"
    store = RunStore()
    run_id = jobs.submit(
        RunConfig(
            dataset="digits", target_class=3, sampler="entropy", epochs=EPOCHS, max_instances=0, save_embeddings="all"
        ),
        store,
        start=False,
    )
    with streamlit_app(home) as url, chromium_page(width=1280, height=1200) as page:
        page.goto(f"{url}/inspect?run={run_id}")
        page.get_by_text("This run's first map appears here when its first epoch finishes.").wait_for(timeout=60000)
        assert jobs.dispatch(store, limit=1) == [run_id]  # the worker starts while the tab is open
        # new epochs arrive as PCA maps (UMAP waits for numba's first compile in the worker, tens of seconds); a
        # digits epoch takes well under the page's 3 s poll, so which epochs the tab catches on the way varies
        page.get_by_text(
            re.compile(
                rf"PCA map of the pool's last-layer gradients at the known label, "
                rf"epoch [1-{EPOCHS}]$"
            )
        ).first.wait_for(timeout=180000)
        # the slider follows to the last epoch, and the UMAP map replaces the PCA one when the worker saves it
        page.get_by_text(
            f"UMAP map of the pool's last-layer gradients at the known label, epoch {EPOCHS}", exact=True
        ).wait_for(timeout=420000)
        wait_until_charts_drawn(page, timeout_s=60)
        slider = page.get_by_role("slider").first
        assert slider.get_attribute("aria-valuetext") == str(EPOCHS)
        done = store.get_run(run_id)
        assert done.status == "finished" and done.epochs_done == EPOCHS
        assert projection.best_method(store, run_id, EPOCHS) == "umap"
