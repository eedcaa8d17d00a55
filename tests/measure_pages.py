"""One-off measurements for the report (not a test: timings on a shared CPU are not pass/fail).

    .venv/bin/python tests/measure_pages.py          # both
    .venv/bin/python tests/measure_pages.py large    # only the 50,000-bag map

1. First paint of every page in Chromium with 200 runs in the store (cold server, then warm).
2. The inspect map of a 50,000-bag pool: the page, then moving the epoch slider until the new canvas map is drawn.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _fresh_home() -> Path:
    home = Path(tempfile.mkdtemp()) / "home"
    home.mkdir()
    os.environ["WEAKNEG_HOME"] = str(home)
    os.environ.pop("WEAKNEG_STORE", None)
    return home


def first_paint() -> None:
    from app_support import build_lab
    from browser_support import chromium_page, streamlit_app

    home = _fresh_home()
    store, real = build_lab(home)
    os.environ["WEAKNEG_STORE"] = store.url
    pages = [
        ("", "Latest runs"),
        ("launch", "positive bags,"),
        ("runs", "200 of 200 runs"),
        (f"runs?run={real}", "Where the time went"),
        (f"inspect?run={real}", "true classes inside:"),
        ("compare", "Time per sampler"),
        ("compare?sweep=lab-sweep", "Time per sampler"),
        ("sweeps", "Launch sweep"),
        ("milcheck", "Verdicts with sampler"),
        ("playground", "Test AP and AUC per epoch"),
    ]
    with streamlit_app(home) as url, chromium_page() as page:
        for label in ("cold server (the first view imports torch and the engine)", "warm server", "warm again"):
            print(label)
            for path, marker in pages:
                started = time.perf_counter()
                page.goto(f"{url}/{path}")
                page.get_by_text(marker).first.wait_for(timeout=90000)
                print(f"  {time.perf_counter() - started:5.2f} s  /{path}  (until {marker!r} shows)")
    os.environ.pop("WEAKNEG_STORE")


def large_store(n_pool: int = 50_000, n_pos: int = 2_000, dim: int = 130, k: int = 4_000):
    """(store, run id): a finished run of two epochs over a generated n_pool-bag pool with PCA maps."""
    from weakneg import projection
    from weakneg.config import RunConfig
    from weakneg.store import FINISHED, RunStore

    store = RunStore()
    run_id = store.create_run(RunConfig(dataset="digits", target_class=3, epochs=2).to_dict())
    store.start_run(run_id, target_name="3", n_pos=n_pos, pool_size=n_pool, k=k)
    rng = np.random.default_rng(0)
    ids = np.arange(n_pool + n_pos)
    store.save_epoch_arrays(
        run_id,
        0,
        bag_ids=ids,
        labels=np.r_[np.zeros(n_pool), np.ones(n_pos)].astype(int),
        contents=rng.multinomial(5, np.ones(10) / 10, size=len(ids)).astype(np.int16),
        class_names=np.array([str(i) for i in range(10)]),
    )
    for epoch in (1, 2):
        chosen = rng.choice(n_pool, k, replace=False)
        order = np.full(n_pool, -1, dtype=np.int32)
        order[chosen] = np.arange(k)
        store.save_epoch_arrays(
            run_id,
            epoch,
            pool_ids=ids[:n_pool],
            positive_ids=ids[n_pool:],
            pick_order=order,
            scores=rng.random(n_pool).astype(np.float32),
            pool_prob=rng.random(n_pool).astype(np.float32),
            pool_grad=rng.normal(size=(n_pool, dim)).astype(np.float16),
            positive_prob=rng.random(n_pos).astype(np.float32),
            positive_grad=rng.normal(size=(n_pos, dim)).astype(np.float16),
        )
        store.add_epoch(run_id, epoch, {"resampled": True})
        store.add_selection(run_id, epoch, ids[chosen], rng.random(k))
        started = time.perf_counter()
        projection.compute_map(store, run_id, epoch, "pca", 1 if epoch == 2 else None)
        print(f"worker side: PCA map of {len(ids):,} bags in {time.perf_counter() - started:.2f} s")
    store.finish_run(run_id, FINISHED)
    return store, run_id


def large_map() -> None:
    from browser_support import chromium_page, streamlit_app

    home = _fresh_home()
    store, run_id = large_store()
    n_pool = store.get_run(run_id).pool_size
    # the canvas map (inside its component's shadow root) is drawn and is not the one marked before the change
    drawn = (
        "() => [...document.querySelectorAll('*')].some(host => { const r = host.shadowRoot; "
        "const c = r && r.querySelector('canvas.lm-points'); "
        "return c && !c.__old && c.width > 0 && r.querySelector('.lm-legend b'); })"
    )
    mark_old = (
        "() => document.querySelectorAll('*').forEach(host => { const c = host.shadowRoot && "
        "host.shadowRoot.querySelector('canvas.lm-points'); if (c) c.__old = true; })"
    )
    with streamlit_app(home) as url, chromium_page() as page:
        page.goto(url)
        page.get_by_text("Latest runs").wait_for(timeout=90000)
        started = time.perf_counter()
        page.goto(f"{url}/inspect?run={run_id}")
        page.wait_for_function(drawn, timeout=90000, polling=50)
        print(f"inspect page opened, {n_pool:,}-bag map drawn: {time.perf_counter() - started:.2f} s")
        slider = page.get_by_role("slider").first
        for key, label in (
            ("ArrowLeft", "epoch 1 (first time)"),
            ("ArrowRight", "epoch 2 (seen before)"),
            ("ArrowLeft", "epoch 1 (seen before)"),
        ):
            page.evaluate(mark_old)
            slider.focus()
            started = time.perf_counter()
            slider.press(key)
            page.wait_for_function(drawn, timeout=90000, polling=50)
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            print(f"slider to {label}: new map drawn after {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    if sys.argv[1:] != ["large"]:
        first_paint()
    large_map()
