"""The smoke walk (issue 25.4): one Chromium session visits every page of the app served as an operator serves it
and performs each page's main action with real workers: launch a run and follow it to the end, pick a bag on its
map, launch a sweep and write its report, compare it, run a MIL check, change the playground, list the runs. It fails
on any Streamlit exception box or traceback text on any page. Its timing is printed."""

import re
import time

import numpy as np
import pytest
from browser_support import chromium_page, seen
from server_support import ServedApp
from test_browser_inspect_runs import points_on_screen

from weakneg.store import RunStore

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]  # real runs, a sweep and a MIL check on a shared CPU


def healthy(page, where: str) -> None:
    """No exception box, no traceback: what a user must never see."""
    time.sleep(0.5)
    boxes = page.locator("[data-testid='stException']")
    assert boxes.count() == 0, (where, boxes.first.inner_text())
    text = page.locator("body").inner_text()
    assert "Traceback (most recent call last)" not in text, where


def number_field(page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")


def test_every_page_survives_its_main_action(tmp_path, monkeypatch):
    for name in ("WEAKNEG_READONLY", "WEAKNEG_CONFIG", "WEAKNEG_STORE", "WEAKNEG_ARTIFACTS", "WEAKNEG_MAX_CONCURRENT"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WEAKNEG_HOME", str(home))
    timings = {}
    with ServedApp(home, env={"WEAKNEG_MAP_METHOD": "pca"}) as app, chromium_page(width=1280, height=1100) as page:

        def step(name):
            timings[name] = time.perf_counter()
            print(f"smoke walk: {name}", flush=True)

        step("home")
        page.goto(app.url)
        seen(page, "Datasets")
        healthy(page, "home")

        step("launch a run")
        page.goto(f"{app.url}/launch")
        seen(page, "positive bags,")
        number_field(page, "Epochs", "2")
        seen(page, "positive bags,")
        page.get_by_role("button", name="Launch", exact=True).click()
        page.wait_for_url(re.compile(r"/runs\?run=\d+"), timeout=60_000)
        run_id = int(re.search(r"run=(\d+)", page.url).group(1))
        seen(page, "finished · epoch 2/2", timeout_s=240)
        healthy(page, "runs: the launched run")

        step("inspect: pick a bag")
        page.goto(f"{app.url}/inspect?run={run_id}")
        seen(page, "map of the pool's last-layer gradients")
        store = RunStore()
        ids, px, py = points_on_screen(page, store, run_id, 2)
        gaps = np.hypot(px[:, None] - px[None], py[:, None] - py[None]) + np.eye(len(px)) * 1e9
        lonely = int(np.argmax(gaps.min(1)))
        page.mouse.click(px[lonely], py[lonely])
        page.get_by_role("heading", name=f"Bag {ids[lonely]}", exact=True).wait_for(timeout=30_000)
        healthy(page, "inspect")

        step("sweeps: launch and write the report")
        page.goto(f"{app.url}/sweeps")
        seen(page, "4 runs (2 classes")
        number_field(page, "Epochs per run", "1")
        page.get_by_role("button", name="Launch sweep").click()
        seen(page, "launched on the local backend")
        seen(page, "4/4 done", timeout_s=300)
        page.get_by_role("button", name="Write report").click()
        seen(page, "Written to", timeout_s=120)
        healthy(page, "sweeps")

        step("compare the sweep")
        page.get_by_role("button", name="Open in Compare").click()
        seen(page, "AP vs random: verdicts per sampler")
        healthy(page, "compare")

        step("MIL check: one head")
        page.goto(f"{app.url}/milcheck")
        seen(page, "Run checks")
        page.locator("[data-testid='stSelectbox']").filter(has_text="Head").click()
        page.get_by_role("option", name="softmax_max").click()
        number_field(page, "Epochs", "3")
        page.get_by_role("button", name="Run checks").click()
        seen(page, "queued MIL check job(s)")
        seen(page, "softmax_max: ", timeout_s=300)  # its verdicts' expander, once the job is done
        healthy(page, "milcheck")

        step("playground: change a setting")
        page.goto(f"{app.url}/playground")
        explanation = page.get_by_text("negative bags. They come").first
        explanation.wait_for(timeout=60_000)
        before = explanation.inner_text()
        overlap = page.locator('[data-testid="stSlider"]').filter(has_text="overlap").get_by_role("slider")
        overlap.focus()
        overlap.press("End")
        page.wait_for_function(
            "before => ![...document.querySelectorAll('p')].some(p => p.innerText === before)", arg=before
        )
        healthy(page, "playground")

        step("runs: the table")
        page.goto(f"{app.url}/runs")
        seen(page, "of 5 runs")
        healthy(page, "runs")
        step("end")
    names = list(timings)
    spent = {a: timings[b] - timings[a] for a, b in zip(names, names[1:])}
    print(
        f"smoke walk: {timings['end'] - timings['home']:.0f} s in all; "
        + "; ".join(f"{k} {v:.0f} s" for k, v in spent.items())
    )
