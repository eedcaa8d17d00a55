"""The dashboard end to end in Debian's Chromium against a real `streamlit run`: launch a digits run from the
form (after a bad value is refused), watch it finish, inspect its map and select bags on it, compare, cancel.

Screenshots of each page go to $WEAKNEG_SCREENSHOTS when set (`WEAKNEG_SCREENSHOTS=docs/screenshots` refreshes
the README's pictures), else to a temporary folder, so a test run never changes the working tree."""

import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from browser_support import chromium_page, streamlit_app, wait_until_charts_drawn
from playwright.sync_api import expect

from weakneg import jobs, views
from weakneg.config import RunConfig
from weakneg.store import RunStore

pytestmark = pytest.mark.slow  # a real browser and a served app

SHOTS = Path(os.environ.get("WEAKNEG_SCREENSHOTS") or tempfile.mkdtemp(prefix="weakneg-shots-"))


T0 = time.monotonic()


def wait_for_text(page, text, timeout_s=60):
    page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)
    print(f"{time.monotonic() - T0:6.1f} s  saw {text!r}")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_until_charts_drawn(page)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def set_number(page, label, value):
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")


@pytest.mark.slow
def test_dashboard_in_chromium(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WEAKNEG_HOME", str(home))
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")  # UMAP's first compile would dominate this test
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "2")
    with streamlit_app(home) as url, chromium_page(height=1500) as page:
        # Launch: the live counts, a refused value with its reason, then a real launch.
        # A deep link on a fresh server gets the app's navigation (no legacy pages/ folder to shadow it).
        page.goto(f"{url}/launch")
        wait_for_text(page, "positive bags,")
        expect(page.get_by_role("link", name="Inspect negatives", exact=True)).to_be_visible()
        page.goto(url)
        wait_for_text(page, "Latest runs")
        assert page.get_by_text("digits", exact=True).first.is_visible()  # the datasets ready to use
        page.get_by_role("link", name="Launch", exact=True).click()
        wait_for_text(page, "positive bags,")
        set_number(page, "Bag size (instances per bag)", 400)
        wait_for_text(page, "larger than the data allows")
        expect(page.get_by_role("button", name="Launch", exact=True)).to_be_disabled()
        set_number(page, "Bag size (instances per bag)", 5)
        set_number(page, "Epochs", 2)
        set_number(page, "P-N ratio (positive / negative bags per epoch)", 0.25)
        page.get_by_text("More settings").click()
        set_number(page, "Max instances per split (0 = all)", 500)
        expected = views.launch_counts(RunConfig(dataset="digits", target_class="3", pn_ratio=0.25, max_instances=500))
        wait_for_text(page, expected.text)
        shoot(page, "launch")
        launch = page.get_by_role("button", name="Launch", exact=True)
        expect(launch).to_be_enabled()
        launch.click()

        # The run page: its URL is shareable, it goes live and finishes.
        page.wait_for_url(re.compile(r".*/runs\?run=1$"), timeout=30000)
        wait_for_text(page, "Run 1: random negatives for class 3 of digits")
        wait_for_text(page, "finished", timeout_s=90)
        wait_for_text(page, "Where the time went")
        shoot(page, "run")
        # A long run to cancel later; its worker starts while we look at the other pages.
        store = RunStore()
        long_run = jobs.submit(RunConfig(dataset="digits", target_class=5, epochs=200, save_embeddings="none"), store)

        # Inspect: the map, every chosen bag as images, then a box (shift-drag) on the map takes the bags inside.
        page.get_by_text("Inspect negatives").last.click()
        wait_for_text(page, "PCA map of the pool's last-layer gradients at the known label, epoch 2")
        wait_for_text(page, "random chose at epoch 2")
        page.locator("[data-testid='stImage'] img").nth(5).wait_for(timeout=30000)  # the chosen bags' image strips
        wait_for_text(page, "true classes inside:")
        chart = page.locator("canvas.lm-points").first  # the map: a shift-drag draws a box
        box = chart.bounding_box()
        page.keyboard.down("Shift")
        page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.95, box["y"] + box["height"] * 0.8, steps=8)
        page.mouse.up()
        page.keyboard.up("Shift")
        wait_for_text(page, "bag(s) picked on the map")
        shoot(page, "inspect")

        # Compare: one finished run gives Table 1, the curves and the tables.
        page.goto(f"{url}/compare")
        wait_for_text(page, "Table 1: AP and AUC per class")
        wait_for_text(page, "Curves over epochs")
        shoot(page, "compare_one_run")

        # Cancel the long run from its page: it stops within seconds.
        page.goto(f"{url}/runs?run={long_run}")
        wait_for_text(page, "Cancel run", timeout_s=60)
        started = time.monotonic()
        page.get_by_role("button", name="Cancel run").click()
        wait_for_text(page, "cancelled", timeout_s=30)
        assert time.monotonic() - started < 20
        cancelled = store.get_run(long_run)
        assert cancelled.status == "cancelled" and len(store.epochs(long_run)) == cancelled.epochs_done

        page.goto(f"{url}/runs")
        wait_for_text(page, "2 of 2 runs")
        shoot(page, "runs")
        page.goto(url)
        wait_for_text(page, "Latest runs")
        shoot(page, "home")
