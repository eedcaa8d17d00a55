"""Soundscapes are made on first use in the background: not started -> making with progress -> ready; a second
request while they are being made (from this process or another) makes nothing again; the Launch page stays
usable and shows the progress, then the counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from weakneg.data import load_bags, making, soundscapes
from weakneg.config import RunConfig
from weakneg.data.soundscapes import SoundscapeSettings, generate, preparation, prepare_in_background
from test_app_pages import APP, no_exceptions

pytestmark = pytest.mark.slow  # generates audio from the Debian samples

OPTIONS = {"n_train": 12, "n_test": 8, "families": ["ambi", "bd", "tabla"]}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gate(monkeypatch):
    """Real mixing that stops after the 4th clip until the test opens the gate; counts every clip mixed."""
    opened, mixed, real = threading.Event(), [], soundscapes.mix_clip

    def mix_clip(*args, **kwargs):
        mixed.append(1)
        if len(mixed) > 4 and not opened.wait(timeout=120):
            raise RuntimeError("the test never opened the gate")
        return real(*args, **kwargs)

    monkeypatch.setattr(soundscapes, "mix_clip", mix_clip)
    monkeypatch.setattr(soundscapes, "PROGRESS_EVERY", 2)
    yield opened, mixed
    opened.set()


def wait_for(condition, timeout=200.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def making_threads():
    return [t for t in threading.enumerate() if t.name.startswith("make ") and t.is_alive()]


def test_states_progress_and_a_second_request_makes_nothing(gate):
    opened, mixed = gate
    assert preparation(OPTIONS).state == making.NOT_STARTED
    first = prepare_in_background(OPTIONS)
    assert first.state == making.MAKING
    wait_for(lambda: preparation(OPTIONS).done >= 4)
    during = preparation(OPTIONS)
    assert during.state == making.MAKING and during.total == 20 and 4 <= during.done < 20
    assert during.text("soundscapes") == f"generating soundscapes: {during.done} of 20 clips"
    assert prepare_in_background(OPTIONS).state == making.MAKING  # asked again while making
    assert len(making_threads()) == 1

    # another process asking for the same set waits for this one instead of generating it again
    script = (
        "import json, sys; from weakneg.data import soundscapes as s\n"
        "calls = []\nreal = s.write_clips\n"
        "s.write_clips = lambda *a, **k: (calls.append(1), real(*a, **k))[1]\n"
        f"s.generate(s.SoundscapeSettings.from_options({OPTIONS!r}))\nprint(json.dumps(len(calls)))"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    assert other.poll() is None  # still waiting: the set is not finished
    opened.set()
    wait_for(lambda: preparation(OPTIONS).state == making.READY)
    out, err = other.communicate(timeout=200)
    assert other.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == 0  # it generated nothing
    assert len(mixed) == 20  # every clip mixed exactly once
    wait_for(lambda: not making_threads())
    assert prepare_in_background(OPTIONS).state == making.READY and not making_threads()
    folder = generate(SoundscapeSettings.from_options(OPTIONS))
    assert len(json.loads((folder / "manifest.json").read_text())["splits"]["train"]) == 12
    data = load_bags(RunConfig(dataset="soundscapes", target_class="tabla", model="audio_cnn", dataset_options=OPTIONS))
    assert len(data.train.labels) == 12 and len(data.test.labels) == 8


def test_a_stale_lock_is_taken_over(tmp_path):
    maker = making.Maker(tmp_path / "set", lambda: (tmp_path / "set").is_dir())
    maker.lock.write_text(json.dumps({"pid": 2**22 + 12345, "host": making.liveness.host(), "process_start": "gone"}))
    assert maker.progress().state == making.NOT_STARTED  # its process is gone
    assert maker.acquire() and not making.Maker(tmp_path / "set", lambda: False).acquire()
    maker.release()


def test_the_launch_page_shows_progress_stays_usable_then_shows_the_counts(gate):
    opened, mixed = gate
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    no_exceptions(app.run())
    # options first (digits refuses them, naming its options), so that only this small set is ever made
    app.text_input(key="dataset_option_text").input("n_train=12 n_test=8 families=ambi,bd,tabla").run()
    assert any("dataset 'digits' has no option(s) families, n_test, n_train" in e.value for e in app.error)
    app.selectbox(key="dataset").set_value("soundscapes").run()
    no_exceptions(app)
    # choosing the dataset starts nothing (a visitor cannot set the server making thousands of clips by a click
    # in a dropdown); a button does, and it is the only way
    assert preparation({**OPTIONS, "families": "ambi,bd,tabla"}).state == making.NOT_STARTED and not making_threads()
    assert any(text.startswith("soundscapes are made on first use") for text in (i.value for i in app.info))
    assert next(b for b in app.button if b.label == "Launch").disabled
    next(b for b in app.button if b.label == "Make soundscapes now").click().run()
    no_exceptions(app)
    wait_for(lambda: preparation({**OPTIONS, "families": "ambi,bd,tabla"}).done >= 4)
    app.number_input(key="epochs").set_value(3).run()  # the page answers while the set is being made
    no_exceptions(app)
    shown = [i.value for i in app.info]
    assert any(text.startswith("generating soundscapes: ") and text.endswith(" of 20 clips") for text in shown), shown
    assert next(b for b in app.button if b.label == "Launch").disabled
    assert not any("positive bags" in text for text in shown)
    opened.set()
    wait_for(lambda: preparation({**OPTIONS, "families": "ambi,bd,tabla"}).state == making.READY)
    wait_for(lambda: not making_threads())
    app.run()
    no_exceptions(app)
    shown = [i.value for i in app.info]
    assert any("positive bags" in text for text in shown), (shown, [e.value for e in app.error])
    assert not next(b for b in app.button if b.label == "Launch").disabled
    assert len(mixed) == 20


def test_a_read_only_visitor_cannot_start_making_soundscapes(monkeypatch):
    monkeypatch.setenv("WEAKNEG_READONLY", "1")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    no_exceptions(app.run())
    app.text_input(key="dataset_option_text").input("n_train=12 n_test=8 families=ambi,bd,tabla").run()
    app.selectbox(key="dataset").set_value("soundscapes").run()
    no_exceptions(app)
    assert next(b for b in app.button if b.label == "Make soundscapes now").disabled
    assert preparation({**OPTIONS, "families": "ambi,bd,tabla"}).state == making.NOT_STARTED and not making_threads()
