"""The app's frame in Debian's Chromium, served as an operator serves it (`python -m weakneg serve`):
`--demo` leaves no enabled Launch button; a server restart under an open tab brings back the app's own
navigation and tells that tab what kept running."""

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from app_support import record_runs
from browser_support import chromium_page
from playwright.sync_api import expect
from server_support import ServedApp

from weakneg import liveness
from weakneg.config import RunConfig
from weakneg.store import RUNNING, RunStore

pytestmark = pytest.mark.slow
NAVIGATION = ["Home", "Launch", "Runs", "Inspect negatives", "Compare", "Sweeps", "MIL checks", "Playground"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ("WEAKNEG_READONLY", "WEAKNEG_CONFIG", "WEAKNEG_STORE", "WEAKNEG_ARTIFACTS"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "home"
    folder.mkdir()
    record_runs(RunStore(f"sqlite:///{folder / 'runs.db'}"), 3)
    return folder


def app_navigation(page) -> list[str]:
    """The titles in the sidebar's navigation (Streamlit's own page list would show file names)."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    links.first.wait_for(timeout=60_000)
    return [text.strip().splitlines()[-1].strip() for text in links.all_inner_texts()]  # after the icon


def test_demo_flag_serves_a_read_only_app(home):
    with ServedApp(home, demo=True) as app, chromium_page(width=1280) as page:
        page.goto(f"{app.url}/launch")
        page.get_by_text("This server is a read-only demo").first.wait_for(timeout=60_000)
        page.get_by_text("Read-only demo: existing runs can be viewed").first.wait_for()
        expect(page.get_by_role("button", name="Launch", exact=True)).to_be_disabled()
        page.goto(f"{app.url}/sweeps")
        page.get_by_text("sweeps cannot be launched or cancelled here").first.wait_for(timeout=60_000)
        expect(page.get_by_role("button", name="Launch sweep")).to_be_disabled()
        for path in ("launch", "sweeps"):
            page.goto(f"{app.url}/{path}")
            page.get_by_role("button", name="Launch").first.wait_for(timeout=60_000)
            enabled = [
                b
                for b in page.get_by_role("button").all()
                if b.inner_text().strip().startswith("Launch") and b.is_enabled()
            ]
            assert not enabled, path
    assert RunStore(f"sqlite:///{home / 'runs.db'}").count_runs() == 3  # nothing was queued


@pytest.fixture
def running_run(home):
    """A run recorded as running whose worker (a real process) lives and beats, started before the server."""
    store = RunStore(f"sqlite:///{home / 'runs.db'}")
    run_id = store.create_run(RunConfig(dataset="digits", target_class=1, epochs=50).to_dict())
    worker = subprocess.Popen(["sleep", "600"], start_new_session=True)
    store.set_status(
        run_id,
        RUNNING,
        pid=worker.pid,
        host=liveness.host(),
        process_start=liveness.process_start(worker.pid),
        started_at=time.time() - 60,
        heartbeat=time.time(),
        epochs_done=3,
    )
    stop = threading.Event()

    def beat():
        while not stop.wait(2):
            store.update_run(run_id, heartbeat=time.time())

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    yield run_id
    stop.set()
    beating.join(5)
    worker.kill()
    worker.wait()


NOTICE = "your runs kept going: 1 running"
SHOTS = Path(os.environ.get("WEAKNEG_SCREENSHOTS") or tempfile.mkdtemp(prefix="weakneg-shots-"))


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_restart_under_an_open_tab_keeps_the_apps_navigation_and_says_what_kept_running(home, running_run):
    app = ServedApp(home)
    try:
        with chromium_page(width=1280) as page:
            app.start()
            page.goto(f"{app.url}/runs")
            page.get_by_text("of 4 runs").first.wait_for(timeout=60_000)
            assert app_navigation(page) == NAVIGATION
            assert page.get_by_text(NOTICE).count() == 0  # a fresh tab: nothing was restarted under it
            app.kill()
            dialog = page.get_by_role("dialog")  # Streamlit gives up its quick retries after about 6 s
            dialog.get_by_text("The weakneg server is not reachable right now").wait_for(timeout=60_000)
            assert "still running" not in dialog.inner_text() and "not responding" not in dialog.inner_text()
            shoot(page, "server_unreachable")
            app.start()  # the same port: the open tab reconnects by itself, nobody reloads it
            page.get_by_text(NOTICE).first.wait_for(timeout=90_000)
            assert app_navigation(page) == NAVIGATION
            page.get_by_text("of 4 runs").first.wait_for(timeout=60_000)  # the page it showed, back
            page.get_by_role("link", name="Compare").click()  # and the navigation still works
            page.get_by_text("Compare samplers").first.wait_for(timeout=60_000)
            shoot(page, "after_restart")
    finally:
        app.kill()
