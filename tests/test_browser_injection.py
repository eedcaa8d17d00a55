"""Nothing a visitor types is rendered as markup (issue 26.3), in Debian's Chromium, normal and demo mode: link,
image and HTML payloads in a run's name, tags and notes, a class name, a named selection's name and the links'
own parameters (?run=, ?sweep=) are shown as typed on Runs, Inspect, Compare and Sweeps; no element links to the
payloads' address and no request reaches the pixel server they name (served here, its hits counted)."""

import http.server
import threading
import time
import urllib.parse

import pytest
from app_support import record_runs
from browser_support import chromium_page, shoot
from server_support import ServedApp
from test_browser_demanding_user import as_typed

from weakneg import named_selections
from weakneg.config import RunConfig
from weakneg.projection import MapMaker
from weakneg.store import RunStore
from weakneg.train import run_experiment

pytestmark = pytest.mark.slow


class PixelServer:
    """A local HTTP server that answers every GET with a 1x1 GIF and counts the hits by path."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def attacked(tmp_path, monkeypatch):
    for name in ("WEAKNEG_READONLY", "WEAKNEG_CONFIG", "WEAKNEG_STORE", "WEAKNEG_ARTIFACTS", "WEAKNEG_DATA_ROOT"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WEAKNEG_HOME", str(home))
    pixel = PixelServer()
    px = pixel.url
    payloads = {
        "name": f"[phish](https://evil.example/login) ![px]({px}/name.png) <img src={px}/name-html.png>",
        "tag": f"a`![p]({px}/t.png)`b",
        "notes": f"line one <b>bold</b> [x](https://evil.example)\n![n]({px}/notes.png) www.evil.example",
        "class": f"![c]({px}/class.png)[c](https://evil.example)",
        "selection": f"[s](https://evil.example) ![s]({px}/sel.png)",
    }
    store = RunStore()
    cfg = RunConfig(dataset="digits", target_class=3, sampler="entropy", epochs=1, max_instances=300)
    real = store.create_run(cfg.to_dict())
    run_experiment(cfg, store, real, on_epoch=MapMaker(store, real, method="pca"))
    store.update_run(real, name=payloads["name"], tags=[payloads["tag"], "plain"], notes=payloads["notes"])
    selection = named_selections.save_selection(store, real, 1, [1, 2, 3], payloads["selection"], [payloads["tag"]])
    recorded = record_runs(store, 8, sweep_id="inj")
    for run_id in recorded:  # a class name a user's file chose, on paired runs Compare shows
        store.update_run(run_id, target_name=payloads["class"])
    yield home, store, real, selection, payloads, pixel
    pixel.close()


def check_pages(page, url, real, selection, payloads, pixel):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    visits = [
        (f"/runs?run={real}", payloads["name"]),
        ("/runs", "of 9 runs"),
        (f"/runs?run={real + 1}", payloads["class"]),
        (f"/inspect?run={real}&epoch=1&selection={selection.id}", payloads["selection"]),
        ("/compare?sweep=inj", "Runs of sweep inj"),
        ("/compare", "Compare samplers"),
        ("/sweeps?sweep=" + payloads["class"], payloads["class"]),
        ("/compare?sweep=" + payloads["name"], payloads["name"].split(" <img")[0]),
        ("/runs?run=" + payloads["selection"], payloads["selection"]),
        ("/inspect?run=" + payloads["selection"], payloads["selection"]),
    ]
    for path, marker in visits:
        page.goto(url + path)
        as_typed(page, marker)
        if path.startswith("/runs?run=") and path.endswith(str(real)):  # the run's own page: every field as typed
            for field in ("tag", "notes"):
                for line in payloads[field].split("\n"):
                    as_typed(page, line)
        time.sleep(1)  # anything the page would fetch has been asked for
        links = page.locator("a[href*='evil.example'], a[href*='127.0.0.1:" + pixel.url.rsplit(":", 1)[1] + "']")
        assert links.count() == 0, (path, links.first.evaluate("a => a.outerHTML"))
        assert page.locator(f"img[src*='{pixel.url}']").count() == 0, path
        assert page.locator("main b, main i").filter(has_text="bold").count() == 0, path  # HTML stayed text
    hosts = {urllib.parse.urlsplit(r).netloc for r in requests}  # the page's own links carry payloads in their query
    assert pixel.hits == [] and not hosts & {urllib.parse.urlsplit(pixel.url).netloc, "evil.example"}, hosts
    return len(visits)


def test_typed_payloads_stay_text_in_normal_and_demo_mode(attacked):
    home, store, real, selection, payloads, pixel = attacked
    for demo in (False, True):
        with ServedApp(home, demo=demo) as app, chromium_page(width=1280) as page:
            started = time.perf_counter()
            pages = check_pages(page, app.url, real, selection, payloads, pixel)
            if not demo:
                page.goto(f"{app.url}/runs?run={real}")
                as_typed(page, payloads["name"])
                shoot(page, "injection_payloads_as_text")
            print(f"{'demo' if demo else 'normal'} mode: {pages} pages, {time.perf_counter() - started:.0f} s")
    assert pixel.hits == []
