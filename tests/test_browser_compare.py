"""Compare in Debian's Chromium on a two-setting (bag size 5 and 10), two-seed sweep: the settings notice, the
verdicts with their intervals, and error bars on Figure 1. Screenshot to $WEAKNEG_SCREENSHOTS/compare.png when set
(`WEAKNEG_SCREENSHOTS=docs/screenshots` refreshes docs/screenshots/compare.png), else to a temporary folder."""

import os
import tempfile
from pathlib import Path

import pytest
from browser_support import chromium_page, streamlit_app
from compare_support import record

from weakneg.store import RunStore

SHOTS = Path(os.environ.get("WEAKNEG_SCREENSHOTS") or tempfile.mkdtemp(prefix="weakneg-shots-"))


def two_setting_store(home: Path) -> RunStore:
    store = RunStore(f"sqlite:///{home / 'runs.db'}")
    for bag_size, lift in ((5, 0.04), (10, 0.0)):
        for cls in (0, 1, 2):
            for seed in (0, 1):
                base = 0.55 + 0.05 * cls + 0.01 * seed
                record(store, "random", cls, seed, base, curve=[base - 0.2, base - 0.1], bag_size=bag_size)
                mine = base + lift + 0.003 * (seed - 0.5)
                record(
                    store,
                    "badge",
                    cls,
                    seed,
                    mine,
                    curve=[mine - 0.15, mine - 0.05],
                    bag_size=bag_size,
                    timings={"t_score": 0.4, "t_select": 0.2, "t_train": 1.0, "t_eval": 0.1},
                )
    return store


@pytest.mark.slow
def test_compare_shows_settings_and_intervals(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WEAKNEG_HOME", str(home))
    two_setting_store(home)
    with streamlit_app(home) as url, chromium_page(height=1400) as page:
        page.goto(f"{url}/compare?sweep=cmp")
        page.get_by_text("2 settings among these runs: bag_size 10 vs 5.").first.wait_for(timeout=90_000)
        page.get_by_text("95% CI").first.wait_for(timeout=30_000)
        assert page.get_by_text("badge(label=predicted)").count() > 0
        assert page.get_by_text("[digits (bag_size=5)]").count() > 0
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        bars = page.locator(".js-plotly-plot g.errorbar")
        bars.first.wait_for(timeout=30_000)
        assert bars.count() >= 6  # 3 classes x 2 settings, each with its interval
        page.get_by_text("Time per sampler").first.wait_for(timeout=30_000)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.wait_for_timeout(1000)  # let the charts finish drawing
        page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)
