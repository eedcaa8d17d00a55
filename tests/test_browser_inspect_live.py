"""Inspect follows a live run in Debian's Chromium: the tab opened while the run is still queued shows the run's
maps as the worker saves them (each epoch's PCA map at once, its UMAP map when the worker's UMAP thread draws it),
the epoch slider ends on the last epoch, and the last epoch shows its UMAP map. Nothing is reloaded.

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
        # new epochs arrive as PCA maps, each replaced by its UMAP map once the worker's thread draws it; a digits
        # epoch takes well under the page's 3 s poll and, with numba's compiled code cached on the machine, a UMAP
        # map about a second, so which epochs, and which of their two maps, the tab catches on the way varies (on
        # a loaded machine it can see UMAP maps only)
        page.get_by_text(
            re.compile(
                rf"(PCA|UMAP) map of the pool's last-layer gradients at the known label, "
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
        for epoch in range(1, EPOCHS + 1):  # each epoch's PCA map came first, then its UMAP map
            assert store.has_artifact(run_id, projection.map_name(epoch, "pca"))
            assert store.has_artifact(run_id, projection.map_name(epoch, "umap"))
