"""Inspect, Runs and Launch in Debian's Chromium against a real `streamlit run`: one click on the map opens that
bag's card; an old run's link works after 250 newer runs; `label=foo` disables Launch with the engine's message;
a run is renamed, tagged, found by its tag and deleted with its artifacts; read-only mode has no enabled Launch.

Screenshots go to $WEAKNEG_SCREENSHOTS when set (`WEAKNEG_SCREENSHOTS=docs/screenshots` refreshes the README's
pictures), else to a temporary folder."""

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from app_support import record_runs
from browser_support import chromium_page, streamlit_app
from playwright.sync_api import expect

from weakneg_core.config import RunConfig
from weakneg_core.projection import MapMaker
from weakneg_core.store import RunStore
from weakneg_core.train import run_experiment

pytestmark = pytest.mark.slow
SHOTS = Path(os.environ.get("WEAKNEG_SCREENSHOTS") or tempfile.mkdtemp(prefix="weakneg-shots-"))


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.5)  # let charts finish drawing
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def seen(page, text, timeout_s=60):
    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)
    except Exception:
        shoot(page, "failed")  # what the page showed instead
        raise


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A home with one real (old) badge run with maps, then 250 newer recorded runs."""
    home = tmp_path_factory.mktemp("browser") / "home"
    home.mkdir()
    store = RunStore(f"sqlite:///{home / 'runs.db'}")
    cfg = RunConfig(dataset="digits", target_class=3, sampler="badge", epochs=2, max_instances=600)
    old = store.create_run(cfg.to_dict())
    run_experiment(cfg, store, old, on_epoch=MapMaker(store, old, method="pca"))
    record_runs(store, 250)
    return home, store, old


def test_inspect_click_and_old_link_then_run_table_actions(lab, monkeypatch):
    home, store, old = lab
    monkeypatch.setenv("WEAKNEG_MAP_METHOD", "pca")
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    with streamlit_app(home) as url, chromium_page(width=1280, height=1400) as page:
        # An old run's link, 250 runs later: the run itself, not the newest one.
        page.goto(f"{url}/inspect?run={old}")
        seen(page, "map of the pool's last-layer gradients at the predicted label, epoch 2")
        seen(page, f"badge chose at epoch 2")
        seen(page, "pick order is not the score order")
        # One click on one point in the map's default mode: that bag's card.
        symbols = page.locator(".vega-embed").first.locator(".mark-symbol path")  # the map's points (SVG)
        symbols.first.wait_for(timeout=30000)
        card = page.get_by_role("heading", name=re.compile(r"^Bag \d+$")).first
        time.sleep(1)  # the chart settles its width once after the first paint
        for attempt in range(4):  # a point may sit under another one or under the tooltip: try the next one
            target = symbols.nth(3 + 7 * attempt)
            target.hover()
            box = target.bounding_box()
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            try:
                card.wait_for(timeout=10000)
                break
            except Exception:
                print(f"click {attempt + 1} opened no card")
        else:
            shoot(page, "failed")
            raise AssertionError("no click on the map opened a bag card")
        heading = card.inner_text()
        bag_id = int(heading.split()[1])
        seen(page, f"bag {bag_id} ·")
        seen(page, f"?run={old}&epoch=2&bag={bag_id}")
        shoot(page, "inspect_click")

        # The run table: rename and tag a run, find it by the tag, delete it with its artifacts.
        victim = store.list_runs(limit=1)[0]["id"]
        store.save_epoch_arrays(victim, 1, pool_ids=[1, 2, 3])
        folder = store.run_dir(victim, create=False)
        assert folder.is_dir()
        page.goto(f"{url}/runs?run={victim}")
        page.get_by_text("Name, tags, notes; archive or delete").click()
        page.get_by_label("Name", exact=True).fill("lr probe")
        page.get_by_label("Tags (commas or spaces)").fill("probe, keep")
        page.get_by_label("Notes").fill("try a smaller learning rate")
        page.get_by_role("button", name="Save").click()
        seen(page, "lr probe")
        page.goto(f"{url}/runs")
        seen(page, "251 of 251 runs")
        search = page.get_by_role("textbox", name="Search runs")
        search.fill("tags:probe")
        search.press("Enter")
        page.get_by_text(re.compile(r"^1 of 251 runs")).wait_for(timeout=30000)
        shoot(page, "runs_table")
        page.goto(f"{url}/runs?run={victim}")
        page.get_by_text("Name, tags, notes; archive or delete").click()
        page.get_by_role("button", name="Delete 1 run(s)…").click()
        seen(page, "This cannot be undone")
        page.get_by_role("button", name="Yes, delete").click()
        seen(page, f"Deleted run(s) {victim}")
        assert store.get_run(victim) is None and not folder.exists()

        # Launch: a typed sampler parameter the engine refuses disables Launch with the engine's message.
        page.goto(f"{url}/launch")
        seen(page, "positive bags,")
        page.get_by_text("More settings").click()
        field = page.get_by_label("Sampler parameters as text (KEY=VALUE ..., as on the command line; overrides the "
                                  "fields above)")
        page.get_by_label("Sampler", exact=True).click()
        page.get_by_role("option", name="badge", exact=True).click()
        field.fill("label=foo")
        field.press("Enter")
        seen(page, "parameter label must be one of known, predicted, got 'foo'")
        expect(page.get_by_role("button", name="Launch", exact=True)).to_be_disabled()
        shoot(page, "launch_refused")


def test_read_only_mode_has_no_enabled_launch(lab, monkeypatch):
    home, store, old = lab
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    with streamlit_app(home) as url, chromium_page(width=1280) as page:
        page.goto(f"{url}/launch")
        seen(page, "This server is a read-only demo")
        expect(page.get_by_role("button", name="Launch", exact=True)).to_be_disabled()
        page.goto(f"{url}/sweeps")
        seen(page, "sweeps cannot be launched or cancelled here")
        expect(page.get_by_role("button", name="Launch sweep")).to_be_disabled()
        page.goto(f"{url}/runs?run={old}")
        page.get_by_text("Name, tags, notes; archive or delete (read-only server)").click()
        expect(page.get_by_role("button", name="Delete 1 run(s)…")).to_be_disabled()
        page.goto(f"{url}/inspect?run={old}")
        seen(page, "badge chose at epoch 2")  # every view of existing runs still works
        enabled = [b for b in page.get_by_role("button").all() if b.inner_text().strip().startswith("Launch")
                   and b.is_enabled()]
        assert not enabled
