"""Real-browser testing: the app served by `streamlit run` on a free port, driven in Debian's Chromium by Playwright."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from processes import stop_weakneg_processes

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# $WEAKNEG_SCREENSHOTS keeps them (`WEAKNEG_SCREENSHOTS=docs/screenshots` refreshes the README's pictures)
SHOTS = Path(os.environ.get("WEAKNEG_SCREENSHOTS") or tempfile.mkdtemp(prefix="weakneg-shots-"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_app(home: Path, timeout_s: float = 60):
    """Serve app.py with WEAKNEG_HOME=home; yields the base URL."""
    port = _free_port()
    env = {**os.environ, "WEAKNEG_HOME": str(home)}
    log = open(home.parent / f"streamlit-{port}.log", "wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        stop_weakneg_processes(server.pid)  # runs the app launched: they would outlive the server
        server.terminate()
        try:
            server.wait(2)  # streamlit can take seconds to stop on SIGTERM; nothing is left to save
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    """A Playwright page in Debian's Chromium (no browser download: the system binary)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_until_charts_drawn(page, timeout_s: float = 30) -> None:
    """Every plotly and Vega chart on the page has drawn (instead of sleeping before a screenshot)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".every(chart => chart._fullData && chart.querySelector('.main-svg'))"
        " && [...document.querySelectorAll('.vega-embed')]"
        ".every(chart => chart.querySelector('canvas, svg'))",
        timeout=timeout_s * 1000,
    )


def chart_data(page, index: int = 0) -> str:
    """The traces (x, y) plotly holds for the index-th chart: what a user sees, without comparing pixels."""
    return page.evaluate(
        "i => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[i].data.map(trace => [trace.x, trace.y]))",
        index,
    )


def shoot(page, name: str, full_page: bool = False) -> None:
    """A screenshot SHOTS/name.png, once the charts had half a second to draw."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.5)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def seen(page, text: str, timeout_s: float = 60) -> None:
    """Wait for `text` on the page; on a timeout keep what the page showed instead (SHOTS/failed.png)."""
    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)
    except Exception:
        shoot(page, "failed", full_page=True)
        print(f"waited {timeout_s} s for {text!r} at {page.url}")
        raise
