"""The CLI as a researcher uses it: fast commands that never load torch, every option explained, progress in a log
file, resume in the foreground, follow, labels (tag, rename, note, archive, delete) and `list`'s search.
Each command runs as a real subprocess against a real SQLite store."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import weakneg
from weakneg.cli import COMMANDS, build_parser, names
from weakneg.cli.progress import Progress
from weakneg.store import FINISHED, RunStore

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sklearn", "scipy", "pandas", "streamlit", "ray", "umap", "mlflow")
PROBE = """
import json, sys
from weakneg.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
print(json.dumps({"code": code, "heavy": sorted(m for m in HEAVY if m in sys.modules)}), file=sys.stderr)
""".replace("HEAVY", repr(HEAVY))


def weakneg_cli(*args, home: Path, stdin: str | None = None, timeout: float = 300, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "weakneg", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "WEAKNEG_HOME": str(home), **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def probe(*args, home: Path) -> tuple[int, list[str], str]:
    """(exit code, heavy modules imported, stdout) of `weakneg ARGS` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        cwd=ROOT,
        env={**os.environ, "WEAKNEG_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


def fake_runs(home: Path, n: int = 3) -> RunStore:
    """Finished runs with two epochs each, written straight into the default store (no training)."""
    store = RunStore(f"sqlite:///{home / 'runs.db'}")
    for i in range(n):
        config = {
            "dataset": "digits",
            "target_class": i,
            "sampler": ("random", "badge", "margin")[i % 3],
            "pn_ratio": 0.5,
            "seed": i,
            "epochs": 2,
            "model": "simple_cnn",
            "head": "mean_softmax",
        }
        run_id = store.create_run(config, status=FINISHED)
        for epoch in (1, 2):
            store.add_epoch(run_id, epoch, {"ap": 0.5 + 0.1 * i + 0.01 * epoch, "auc": 0.7, "train_loss": 0.3})
        store.update_run(run_id, final_ap=0.5 + 0.1 * i, final_auc=0.7, epochs_done=2, target_name=str(i))
    return store


# --- fast and explained ------------------------------------------------------------------------------


def test_name_lists_are_the_registries():
    from weakneg.data import DATASETS
    from weakneg.data.user import FORMATS
    from weakneg.milcheck import TESTS
    from weakneg.models import HEADS, MODELS
    from weakneg.samplers import SAMPLERS

    assert names.SAMPLERS == tuple(SAMPLERS)
    assert names.SAMPLER_DEFAULTS == {name: spec.params for name, spec in SAMPLERS.items() if spec.params}
    assert names.HEADS == tuple(HEADS)
    assert names.MODELS == tuple(MODELS)
    assert names.DATASETS == tuple(n for n, spec in DATASETS.items() if not spec.by_path)
    assert names.USER_FORMATS == tuple(n for n, spec in DATASETS.items() if spec.by_path)
    assert names.MIL_TESTS == tuple(TESTS)
    assert names.DATA_FORMATS == tuple(FORMATS)


def test_help_list_and_show_never_import_torch(isolated_home):
    store = fake_runs(isolated_home)
    run_id = store.list_runs()[0].id
    for args in (["--help"], ["run", "--help"], ["list"], ["list", "sampler:badge", "AP>0.55"], ["show", run_id]):
        code, heavy, out = probe(*args, home=isolated_home)
        assert code == 0, (args, out)
        assert "torch" not in heavy and "streamlit" not in heavy and "ray" not in heavy, (args, heavy)
    code, heavy, out = probe("list", home=isolated_home)
    assert heavy == [] and len(out.strip().splitlines()) == 4  # header + 3 runs, with nothing heavy at all
    code, heavy, out = probe("show", run_id, home=isolated_home)
    assert f"run {run_id}: finished" in out and "torch" not in heavy and "pandas" not in heavy


def test_version_comes_from_one_place(isolated_home):
    done = weakneg_cli("--version", home=isolated_home)
    assert done.returncode == 0 and done.stdout.strip() == f"weakneg {weakneg.__version__}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "weakneg.version.__version__"}
    assert pyproject["project"]["scripts"]["weakneg"] == "weakneg.cli:main"


def test_every_option_of_every_command_has_help():
    for name in COMMANDS:
        parser = build_parser(only=name)
        [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        command = sub.choices[name]
        parsers = [command] + [
            p for a in command._actions if isinstance(a, argparse._SubParsersAction) for p in a.choices.values()
        ]
        for p in parsers:
            for action in p._actions:
                if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                    continue
                assert action.help, f"`{p.prog}`: {action.option_strings or action.dest} has no help"


def test_run_help_lists_choices_and_defaults(isolated_home):
    done = weakneg_cli("run", "--help", home=isolated_home)
    text = " ".join(done.stdout.split())
    assert done.returncode == 0
    for sampler in names.SAMPLERS:
        assert sampler in text
    for head in names.HEADS:
        assert head in text
    assert "auto, cpu, cuda" in text and "(default: random)" in text and "(default: mean_softmax)" in text
    assert "(default: 10)" in text and "(default: 0.5)" in text  # epochs, pn-ratio


@pytest.mark.parametrize(
    "flag, value, what",
    [
        ("--sampler", "nosuch", "sampler"),
        ("--head", "max", "head"),
        ("--model", "vgg", "model"),
        ("--device", "tpu", "device"),
    ],
)
def test_a_name_outside_the_choices_is_one_line(isolated_home, flag, value, what):
    done = weakneg_cli("run", "--target-class", "1", flag, value, home=isolated_home)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert f"unknown {what} {value!r}; choose one of:" in done.stderr
    assert not (isolated_home / "runs.db").exists()


# --- progress -----------------------------------------------------------------------------------------

EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+)  loss \S+  AP \S+  AUC \S+  \S+ s/epoch  elapsed .+  ETA (.+)$")


def test_off_a_terminal_each_epoch_is_one_plain_line(isolated_home):
    done = weakneg_cli("run", "--target-class", "3", "--epochs", "3", "--json", home=isolated_home)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    data = [line for line in lines if line.startswith("data: ")]  # a loading phase that took >= 0.5 s here
    assert all(re.match(r"^data: .+  [\d.]+ s  \(elapsed [\d.]+ s\)$", line) for line in data), data
    matches = [EPOCH_LINE.match(line) for line in lines[len(data) :]]
    assert all(matches), lines  # then one line per epoch, no bar
    assert [(m.group(1), m.group(2)) for m in matches] == [("1", "3"), ("2", "3"), ("3", "3")]
    assert matches[-1].group(3) == "0.0 s"
    assert "\r" not in done.stderr and json.loads(done.stdout)["epochs"] == 3  # stdout stays one JSON object


def test_each_phase_of_loading_is_reported_with_its_time():
    from weakneg.config import RunConfig
    from weakneg.train import prepare

    stream = io.StringIO()
    progress = Progress(2, stream=stream, bar=False, quiet_below_s=0.0)
    data = prepare(RunConfig(target_class=3, epochs=2, val_fraction=0.2), on_phase=progress.phase)
    progress.loaded()
    lines = stream.getvalue().splitlines()
    phases = [re.match(r"^data: (.+?)  [\d.]+ s  \(elapsed [\d.]+ s\)$", line) for line in lines]
    assert all(phases), lines
    assert [m.group(1) for m in phases] == [
        "looking for the data",
        "reading class names",
        "reading instances and building bags",
        "splitting off validation bags",
    ]
    assert data.val is not None
    progress.epoch({"epoch": 1, "train_loss": 0.5, "ap": 0.4, "auc": 0.6, "t_train": 2.0})
    assert EPOCH_LINE.match(stream.getvalue().splitlines()[-1])


def test_bad_input_found_while_loading_keeps_its_one_line_and_long_phases_speak_up():
    stream = io.StringIO()
    progress = Progress(2, stream=stream, bar=False, quiet_below_s=0.0, heartbeat_s=60)
    progress.phase("looking for the data")
    progress.phase("reading class names")  # the first phase is finished: its line is held ...
    progress.failed()  # ... and dropped when loading stops on bad input
    assert stream.getvalue() == ""

    stream = io.StringIO()
    progress = Progress(2, stream=stream, bar=False, quiet_below_s=0.0, heartbeat_s=0.2)
    progress.phase("looking for the data")
    progress.phase("reading instances and building bags")
    deadline = time.monotonic() + 30
    while stream.getvalue().count("so far") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # a long phase: the held line, then a line per beat, while it runs
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("data: looking for the data  ")
    assert lines[1].startswith("data: reading instances and building bags ...  ") and lines[1].endswith(" so far")
    progress.loaded()
    assert stream.getvalue().splitlines()[-1].startswith("data: reading instances and building bags  ")


def test_on_a_terminal_the_bar_is_live(isolated_home):
    import fcntl
    import pty
    import struct
    import termios
    import threading

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    process = subprocess.Popen(
        [sys.executable, "-m", "weakneg", "run", "--target-class", "3", "--epochs", "2"],
        cwd=ROOT,
        env={**os.environ, "WEAKNEG_HOME": str(isolated_home)},
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    chunks: list[bytes] = []

    def read() -> None:  # as a terminal does, while the program writes (a full pty buffer would block it)
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the program has exited and closed its side
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    out, _ = process.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(leader)
    text = b"".join(chunks).decode(errors="replace")
    assert process.returncode == 0, text
    assert "2/2" in text and ("epoch/s" in text or "s/epoch" in text)  # tqdm's bar, not the plain lines
    assert not re.search(r"^epoch \d+/2  loss", text, re.M)
    assert b"finished" in out


# --- resume in the foreground, follow -----------------------------------------------------------------


@pytest.mark.slow  # real training runs, killed and resumed, or in a worker
def test_resume_runs_in_the_foreground_and_equals_an_uninterrupted_run(isolated_home, tmp_path):
    from resume_support import assert_identical, outcome

    args = ["run", "--target-class", "2", "--epochs", "4", "--seed", "7"]
    reference_home = tmp_path / "reference"
    assert weakneg_cli(*args, home=reference_home).returncode == 0
    reference = RunStore(f"sqlite:///{reference_home / 'runs.db'}")

    process = subprocess.Popen(
        [sys.executable, "-m", "weakneg", *args],
        cwd=ROOT,
        env={**os.environ, "WEAKNEG_HOME": str(isolated_home)},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    for line in process.stderr:  # off a terminal: one line per epoch; stop it hard after the second
        if line.startswith("epoch 2/4"):
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    store = RunStore(f"sqlite:///{isolated_home / 'runs.db'}")
    [run] = store.list_runs()
    assert run.status == "interrupted" and 2 <= run.epochs_done < 4

    listed = weakneg_cli("list", "--status", "interrupted", "--json", home=isolated_home)
    assert [r["id"] for r in json.loads(listed.stdout)] == [run.id]
    done = weakneg_cli("resume", run.id, home=isolated_home)
    assert done.returncode == 0, done.stderr
    epochs = [int(m.group(1)) for m in map(EPOCH_LINE.match, done.stderr.splitlines()) if m]
    # from the last checkpoint: the killed epoch's own, or the one before when the kill came between the epoch's
    # record and its checkpoint (the line is printed in between)
    assert epochs == list(range(epochs[0], 5)) and epochs[0] in (run.epochs_done, run.epochs_done + 1)
    assert f"run {run.id} finished" in done.stdout
    assert_identical(outcome(store, run.id), outcome(reference, 1), maps=False)
    again = weakneg_cli("resume", run.id, home=isolated_home)
    assert again.returncode == 2 and "only an interrupted, failed or cancelled run resumes" in again.stderr


@pytest.mark.slow  # real training runs, killed and resumed, or in a worker
def test_resume_detach_queues_and_follow_tails_it_to_the_end(isolated_home):
    from weakneg import jobs
    from weakneg.config import RunConfig

    store = RunStore(f"sqlite:///{isolated_home / 'runs.db'}")
    run_id = store.create_run(RunConfig(target_class=1, epochs=3, save_embeddings="none").to_dict(), status="failed")
    done = weakneg_cli("resume", run_id, "--detach", home=isolated_home, env={"WEAKNEG_MAP_METHOD": "pca"})
    assert done.returncode == 0 and f"weakneg follow {run_id}" in done.stdout
    followed = weakneg_cli("follow", run_id, "--poll", "0.2", "--timeout", "280", home=isolated_home)
    assert followed.returncode == 0, followed.stderr
    lines = followed.stdout.strip().splitlines()
    assert lines[0].startswith(f"run {run_id} ")
    assert [line.split()[1] for line in lines if line.startswith("epoch ")] == ["1/3", "2/3", "3/3"]
    assert lines[-1].startswith(f"run {run_id} finished: AP ")
    [run] = jobs.wait(store, [run_id], timeout_s=30)
    assert run.status == FINISHED
    as_json = weakneg_cli("follow", run_id, "--json", home=isolated_home)
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["epoch"] for r in records[:-1]] == [1, 2, 3] and records[-1]["status"] == FINISHED
    assert records[2]["ap"] == store.epochs(run_id)[2].ap


def test_follow_exit_status_is_the_runs(isolated_home):
    store = fake_runs(isolated_home, n=1)
    failed = store.create_run({"dataset": "digits", "target_class": 1, "epochs": 3}, status="failed")
    store.finish_run(failed, "failed", error="ValueError: boom\nsecond line")
    done = weakneg_cli("follow", failed, home=isolated_home)
    assert done.returncode == 1 and "ValueError: boom" in done.stdout and "second line" not in done.stdout
    assert weakneg_cli("follow", 1, home=isolated_home).returncode == 0
    missing = weakneg_cli("follow", 99, home=isolated_home)
    assert missing.returncode == 2 and "no run 99" in missing.stderr


# --- labels and list's search ---------------------------------------------------------------------------


def test_tag_rename_note_and_list_search(isolated_home):
    from weakneg.views.runs import run_rows, search_runs

    store = fake_runs(isolated_home, n=4)
    assert weakneg_cli("tag", "1,3", "baseline", "digits", home=isolated_home).returncode == 0
    assert store.get_run(1).tags == ["baseline", "digits"] and store.get_run(2).tags in (None, [])
    assert weakneg_cli("tag", "3", "--remove", "digits", home=isolated_home).returncode == 0
    assert store.get_run(3).tags == ["baseline"]
    assert weakneg_cli("rename", 2, "badge, seed 1", home=isolated_home).returncode == 0
    assert store.get_run(2).name == "badge, seed 1"
    assert weakneg_cli("note", 2, "-", stdin="lr too high?\n", home=isolated_home).returncode == 0
    assert weakneg_cli("note", 2, "yes: halve it", "--append", home=isolated_home).returncode == 0
    assert store.get_run(2).notes == "lr too high?\nyes: halve it"
    shown = weakneg_cli("show", 2, home=isolated_home).stdout
    assert "name 'badge, seed 1'" in shown and "notes: lr too high?" in shown

    for query in ("tags:baseline", "sampler:badge", "AP>0.55", "seed=0", "badge", "name:seed tags:baseline"):
        listed = weakneg_cli("list", *query.split(), "--json", home=isolated_home)
        want = search_runs(run_rows(store, more=True), query)["id"].tolist()
        assert listed.returncode == 0 and [r["id"] for r in json.loads(listed.stdout)] == want, query
    assert [r["id"] for r in json.loads(weakneg_cli("list", "tags:baseline", "--json", home=isolated_home).stdout)] == [
        3,
        1,
    ]
    bad = weakneg_cli("list", "colour:red", home=isolated_home)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and "unknown field 'colour'" in bad.stderr
    assert weakneg_cli("rename", 9, "x", home=isolated_home).returncode == 2
    assert weakneg_cli("tag", "1", "x" * 41, home=isolated_home).returncode == 2
    assert store.get_run(1).tags == ["baseline", "digits"]  # a refused tag changes nothing


def test_archive_hides_from_list_and_delete_asks(isolated_home):
    store = fake_runs(isolated_home, n=3)
    assert weakneg_cli("archive", "1-2", home=isolated_home).returncode == 0
    ids = lambda *extra: [r["id"] for r in json.loads(weakneg_cli("list", "--json", *extra, home=isolated_home).stdout)]  # noqa: E731
    assert ids() == [3] and ids("--archived") == [3, 2, 1]
    assert weakneg_cli("archive", "2", "--undo", home=isolated_home).returncode == 0
    assert ids() == [3, 2]

    refused = weakneg_cli("delete", "2,3", home=isolated_home)  # not a terminal and no --yes: nothing goes
    assert refused.returncode == 2 and "add --yes" in refused.stderr and store.count_runs() == 3
    done = weakneg_cli("delete", "2,3", "--yes", home=isolated_home)
    assert done.returncode == 0 and "deleted 2 run(s): 2, 3" in done.stdout
    assert [r.id for r in store.list_runs()] == [1] and store.epochs(2) == []
    readonly = weakneg_cli("delete", "1", "--yes", home=isolated_home, env={"WEAKNEG_READONLY": "1"})
    assert readonly.returncode == 2 and "read-only" in readonly.stderr and store.count_runs() == 1
    bad = weakneg_cli("archive", "3-x", home=isolated_home)
    assert bad.returncode == 2 and "not a list of run ids" in bad.stderr


def test_run_ids_syntax():
    from weakneg.cli.labels import run_ids

    assert run_ids("3") == [3] and run_ids("3,5,8") == [3, 5, 8] and run_ids("3-5,4,9") == [3, 4, 5, 9]
    for bad in ("", "a", "3-", "-3", "1,,2", "3.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            run_ids(bad)


def test_help_is_fast_enough_to_type(isolated_home):
    """Not a timing test: the imports a bare `--help` pays for are only the CLI's own and the standard library's."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "weakneg", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WEAKNEG_HOME": str(isolated_home)},
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert done.returncode == 0 and "weakneg" in imported
    assert not imported & {"torch", "numpy", "sqlalchemy", "pandas", "scipy", "sklearn"}, imported


def test_schema_revisions_read_without_alembic_agree_with_alembic(tmp_path):
    """`list` and `show` open the store without importing Alembic: the head revision comes from the revision
    files, the store's revision from its alembic_version table. Alembic's own answers must be the same."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from weakneg import migrations

    folder = Path(migrations.__file__).parent
    assert migrations.head() == ScriptDirectory(str(folder)).get_current_head()
    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}")
    with store.engine.connect() as connection:
        assert migrations.current_in(connection) == MigrationContext.configure(connection).get_current_revision()
        assert migrations.current_in(connection) == migrations.head()
    assert migrations.current(create_engine(f"sqlite:///{tmp_path / 'empty.db'}")) is None  # no tables, no revision
