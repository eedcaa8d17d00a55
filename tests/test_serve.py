"""`python -m weakneg serve [--demo]`: the command that serves the app with the project's settings, and
`--demo` reaching app.py (as `streamlit run app.py -- --demo` passes it) as read-only mode. The browser test of a
served demo is in test_browser_frame.py."""

import os
import sys

from streamlit.testing.v1 import AppTest

from weakneg.cli import main
from weakneg.cli.serve import APP, streamlit_argv
from test_app_pages import APP as APP_IN_TESTS, no_exceptions


def test_the_command_serves_this_repositorys_app_and_passes_demo_after_the_dashes():
    assert APP == APP_IN_TESTS and APP.is_file()
    plain = streamlit_argv("127.0.0.1", 8600, demo=False)
    assert plain[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)] and "--demo" not in plain
    assert plain[plain.index("--server.address") + 1] == "127.0.0.1" and "8600" in plain
    assert streamlit_argv("0.0.0.0", 8600, demo=True)[-2:] == ["--", "--demo"]


def test_bad_serve_input_exits_2_before_anything_starts(capsys, tmp_path, monkeypatch):
    assert main(["serve", "--port", "0"]) == 2
    assert "--port must be 1-65535" in capsys.readouterr().err
    monkeypatch.setenv("WEAKNEG_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["serve", "--demo"]) == 2
    assert "cannot read the limits file" in capsys.readouterr().err


def test_demo_after_the_dashes_makes_the_app_read_only(monkeypatch):
    monkeypatch.setenv("WEAKNEG_READONLY", "0")  # restored after the test: the app sets it to 1 in this process
    monkeypatch.setattr(sys, "argv", ["app.py", "--demo"])
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    no_exceptions(app.run())
    assert os.environ["WEAKNEG_READONLY"] == "1"
    assert any("read-only demo" in i.value for i in app.info)
    assert next(b for b in app.button if b.label == "Launch").disabled
