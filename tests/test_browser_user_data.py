"""The user's own data in a real browser: an instance table checked and launched from the Launch page's panel, the
run followed to its end, and its pool drawn by Inspect (Debian's Chromium, Playwright)."""

import re

import pytest
from browser_support import chromium_page, streamlit_app, wait_until_charts_drawn
from playwright.sync_api import expect
from test_data_check import write_table

from weakneg.store import RunStore

pytestmark = pytest.mark.slow  # a real browser, a served app and a worker process


def test_a_run_on_a_user_table_from_launch_to_inspect(tmp_path, monkeypatch):
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    write_table(data / "bags.csv", bags=80)
    for name, value in {
        "WEAKNEG_HOME": str(home),
        "WEAKNEG_DATA_FOLDERS": str(data),
        "WEAKNEG_MAP_METHOD": "pca",
        "WEAKNEG_MAX_CONCURRENT": "1",
    }.items():
        monkeypatch.setenv(name, value)
    with streamlit_app(home) as url, chromium_page(height=1400) as page:
        page.goto(f"{url}/launch")
        page.get_by_text("positive bags,").first.wait_for(timeout=60000)
        epochs = page.get_by_label("Epochs", exact=True)
        epochs.fill("2")
        epochs.press("Enter")
        page.get_by_text("Your own data: check a file before a run").click()
        path = page.get_by_label("Path (an instance table, an image-bag CSV or a clip CSV)")
        path.fill(str(data / "bags.csv"))
        path.press("Enter")
        launch = page.get_by_role("button", name="Launch on this data (settings above)")
        expect(launch).to_be_enabled(timeout=60000)  # the check passed: the report is shown above it
        launch.click()

        page.wait_for_url(re.compile(r".*/runs\?run=1$"), timeout=60000)
        page.get_by_text("finished").first.wait_for(timeout=180000)
        run = RunStore().get_run(1)
        assert run.dataset == "table" and run.status == "finished" and run.epochs_done == 2

        page.goto(f"{url}/inspect?run=1")
        page.get_by_text(f"The {run.k} bags random chose at epoch 2").first.wait_for(timeout=60000)
        expect(page.locator(".vega-embed").first).to_be_visible(timeout=60000)  # the pool's map
        wait_until_charts_drawn(page)
        page.screenshot(path=str(tmp_path / "user-table-inspect.png"), full_page=True)
