"""Every CLI input that cannot work exits 2 with one line on stderr and writes nothing: the store file stays
absent, WEAKNEG_HOME stays empty. One table, one row per kind of bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weakneg.cli import main

RUN = ["run", "--dataset", "digits", "--target-class", "3", "--epochs", "1"]
SWEEP = ["sweep", "--dataset", "digits", "--classes", "1", "--seeds", "0", "--set", "epochs=1"]

# (id, arguments, environment); "{tmp}" is the test's empty folder. `--store` is added unless given.
CASES: list[tuple[str, list[str], dict[str, str]]] = [
    # --- run: the target class, dataset, sampler
    ("class-too-large", [*RUN[:3], "--target-class", "99"], {}),
    ("class-negative", [*RUN[:3], "--target-class", "-1"], {}),
    ("class-unknown-name", [*RUN[:3], "--target-class", "no such class"], {}),
    ("class-empty", [*RUN[:3], "--target-class", ""], {}),
    ("class-fraction", [*RUN[:3], "--target-class", "3.5"], {}),
    ("class-missing", ["run", "--dataset", "digits"], {}),
    ("dataset-unknown", ["run", "--dataset", "nosuch", "--target-class", "1"], {}),
    ("dataset-empty", ["run", "--dataset", "", "--target-class", "1"], {}),
    ("sampler-unknown", [*RUN, "--sampler", "nosuch"], {}),
    ("sampler-empty", [*RUN, "--sampler", ""], {}),
    # --- run: numbers
    ("pn-ratio-zero", [*RUN, "--pn-ratio", "0"], {}),
    ("pn-ratio-negative", [*RUN, "--pn-ratio", "-1"], {}),
    ("pn-ratio-inf", [*RUN, "--pn-ratio", "inf"], {}),
    ("pn-ratio-nan", [*RUN, "--pn-ratio", "nan"], {}),
    ("pn-ratio-overflow", [*RUN, "--pn-ratio", "1e999"], {}),
    ("pn-ratio-text", [*RUN, "--pn-ratio", "half"], {}),
    ("epochs-zero", [*RUN, "--epochs", "0"], {}),
    ("epochs-negative", [*RUN, "--epochs", "-3"], {}),
    ("epochs-huge", [*RUN, "--epochs", "1000000000"], {}),
    ("epochs-float", [*RUN, "--epochs", "1.5"], {}),
    ("epochs-text", [*RUN, "--epochs", "ten"], {}),
    ("resample-every-zero", [*RUN, "--resample-every", "0"], {}),
    ("bag-size-zero", [*RUN, "--bag-size", "0"], {}),
    ("bag-size-negative", [*RUN, "--bag-size", "-2"], {}),
    ("bag-size-huge", [*RUN, "--bag-size", "1000000000"], {}),
    ("lr-zero", [*RUN, "--lr", "0"], {}),
    ("lr-negative", [*RUN, "--lr", "-0.1"], {}),
    ("lr-nan", [*RUN, "--lr", "nan"], {}),
    ("lr-inf", [*RUN, "--lr", "inf"], {}),
    ("weight-decay-negative", [*RUN, "--weight-decay", "-1"], {}),
    ("weight-decay-nan", [*RUN, "--weight-decay", "nan"], {}),
    ("weight-decay-inf", [*RUN, "--weight-decay", "inf"], {}),
    ("batch-size-zero", [*RUN, "--batch-size", "0"], {}),
    ("batch-size-negative", [*RUN, "--batch-size", "-8"], {}),
    ("seed-negative", [*RUN, "--seed", "-1"], {}),
    ("seed-huge", [*RUN, "--seed", "99999999999999999999999"], {}),
    ("seed-text", [*RUN, "--seed", "lucky"], {}),
    ("val-fraction-one", [*RUN, "--val-fraction", "1"], {}),
    ("val-fraction-negative", [*RUN, "--val-fraction", "-0.1"], {}),
    ("val-fraction-nan", [*RUN, "--val-fraction", "nan"], {}),
    ("patience-negative", [*RUN, "--patience", "-1"], {}),
    ("patience-without-validation", [*RUN, "--patience", "3"], {}),
    ("max-instances-negative", [*RUN, "--max-instances", "-5"], {}),
    ("val-fraction-leaves-no-positives", [*RUN, "--val-fraction", "0.999"], {}),
    ("lr-overflows-float32", [*RUN, "--lr", "1e300"], {}),
    ("batch-size-huge", [*RUN, "--batch-size", "100000000000000000000"], {}),
    ("pn-ratio-leaves-k-zero", [*RUN, "--pn-ratio", "1000"], {}),
    ("data-and-dataset", [*RUN, "--data", "{tmp}/nothing.csv"], {}),
    ("class-missing-several-classes", ["run", "--epochs", "1"], {}),
    ("config-file-missing", [*RUN, "--config", "{tmp}/nothing.toml"], {}),
    # --- run: names
    ("model-unknown", [*RUN, "--model", "nosuch"], {}),
    ("model-of-another-modality", [*RUN, "--model", "audio_cnn"], {}),
    ("head-unknown", [*RUN, "--head", "nosuch"], {}),
    ("device-unknown", [*RUN, "--device", "tpu"], {}),
    ("device-cuda-absent", [*RUN, "--device", "cuda"], {}),
    ("save-embeddings-unknown", [*RUN, "--save-embeddings", "sometimes"], {}),
    # --- run: key=value options
    ("dataset-option-no-equals", [*RUN, "--dataset-option", "nosuch"], {}),
    ("dataset-option-no-key", [*RUN, "--dataset-option", "=1"], {}),
    ("sampler-param-unknown", [*RUN, "--sampler", "margin", "--sampler-param", "nosuch=1"], {}),
    ("sampler-param-no-equals", [*RUN, "--sampler-param", "label"], {}),
    ("sampler-param-for-random", [*RUN, "--sampler-param", "temperature=2"], {}),
    # --- run: data that is not there
    (
        "data-root-without-cifar",
        ["run", "--dataset", "cifar10", "--target-class", "1", "--data-root", "{tmp}/nothing"],
        {},
    ),
    ("data-root-is-a-file", ["run", "--dataset", "cifar10", "--target-class", "1", "--data-root", "/etc/hostname"], {}),
    ("datasets-data-root-is-a-file", ["datasets", "--data-root", "/etc/hostname"], {}),
    (
        "data-root-is-a-file-with-a-debian-copy",
        ["run", "--dataset", "fashion_mnist", "--target-class", "1", "--data-root", "/etc/hostname"],
        {},
    ),
    (
        "data-root-env-without-files",
        ["run", "--dataset", "cifar10", "--target-class", "1"],
        {"WEAKNEG_DATA_ROOT": "{tmp}/nothing"},
    ),
    ("unknown-flag", [*RUN, "--frobnicate"], {}),
    ("no-command", [], {}),
    ("unknown-command", ["frobnicate"], {}),
    # --- store URLs
    ("store-unknown-scheme", ["list", "--store", "nosuch://x"], {}),
    ("store-not-a-url", ["list", "--store", "not a url"], {}),
    ("store-empty", ["list", "--store", ""], {}),
    ("store-sqlite-no-path", ["list", "--store", "sqlite:///"], {}),
    ("store-sqlite-memory", ["run", *RUN[1:], "--store", "sqlite://"], {}),
    ("store-sqlite-under-proc", [*RUN, "--store", "sqlite:////proc/nope/runs.db"], {}),
    ("store-sqlite-a-folder", ["list", "--store", "sqlite:///{tmp}"], {}),
    ("store-sqlite-not-a-database", ["list", "--store", "sqlite:////etc/hostname"], {}),
    ("store-driver-missing", ["list", "--store", "mysql://u@127.0.0.1/x"], {}),
    ("store-postgres-refused", ["list", "--store", "postgresql+psycopg://u@127.0.0.1:1/x"], {}),
    ("store-postgres-bad-driver", ["list", "--store", "postgresql+nosuch://u@127.0.0.1/x"], {}),
    ("store-run-unknown-scheme", [*RUN, "--store", "nosuch://x"], {}),
    ("store-show-unknown-scheme", ["show", "1", "--store", "nosuch://x"], {}),
    ("store-sweeps-unknown-scheme", ["sweeps", "--store", "nosuch://x"], {}),
    ("store-dispatch-unknown-scheme", ["dispatch", "--store", "nosuch://x"], {}),
    ("store-env-unknown-scheme", ["list"], {"WEAKNEG_STORE": "nosuch://x"}),
    ("store-env-empty-sqlite", ["list"], {"WEAKNEG_STORE": "sqlite:///"}),
    # --- WEAKNEG_HOME and friends
    ("home-empty", ["list"], {"WEAKNEG_HOME": ""}),
    ("home-under-proc", RUN, {"WEAKNEG_HOME": "/proc/nope"}),
    ("home-is-a-file", ["list"], {"WEAKNEG_HOME": "/etc/hostname"}),
    ("home-relative", ["list"], {"WEAKNEG_HOME": "relative/home"}),
    ("max-concurrent-text", ["dispatch"], {"WEAKNEG_MAX_CONCURRENT": "many"}),
    ("max-concurrent-fraction", ["dispatch"], {"WEAKNEG_MAX_CONCURRENT": "1.5"}),
    ("max-concurrent-negative", ["dispatch"], {"WEAKNEG_MAX_CONCURRENT": "-2"}),
    # --- list / show / resume
    ("show-no-run", ["show", "999"], {}),
    ("show-negative", ["show", "-1"], {}),
    ("show-text", ["show", "abc"], {}),
    ("resume-no-run", ["resume", "999"], {}),
    ("resume-text", ["resume", "abc"], {}),
    ("list-negative-limit", ["list", "--limit", "-1"], {}),
    ("list-text-limit", ["list", "--limit", "many"], {}),
    ("list-unknown-status", ["list", "--status", "sleeping"], {}),
    ("worker-no-run", ["worker", "999"], {}),
    # --- sweeps
    ("sweep-class-too-large", [*SWEEP[:3], "--classes", "99"], {}),
    ("sweep-no-classes", [*SWEEP[:3], "--classes"], {}),
    ("sweep-no-grid", ["sweep", "--dataset", "digits"], {}),
    ("sweep-unknown-id", ["sweep", "--sweep-id", "nosuch"], {}),
    ("sweep-unknown-sampler", [*SWEEP, "--samplers", "nosuch"], {}),
    ("sweep-negative-seed", [*SWEEP[:5], "--seeds", "-1"], {}),
    ("sweep-text-seed", [*SWEEP[:5], "--seeds", "abc"], {}),
    ("sweep-repeated-seed", [*SWEEP[:5], "--seeds", "0", "0"], {}),
    ("sweep-zero-pn-ratio", [*SWEEP, "--pn-ratios", "0"], {}),
    ("sweep-inf-pn-ratio", [*SWEEP, "--pn-ratios", "inf"], {}),
    ("sweep-zero-epochs", [*SWEEP, "--epochs", "0"], {}),
    ("sweep-huge-epochs", [*SWEEP, "--epochs", "1000000000"], {}),
    ("sweep-grid-bad-value", [*SWEEP, "--grid", "lr=abc"], {}),
    ("sweep-grid-empty-value", [*SWEEP, "--grid", "lr=0.1,,0.2"], {}),
    ("sweep-grid-unknown-field", [*SWEEP, "--grid", "nosuch=1,2"], {}),
    ("sweep-grid-no-equals", [*SWEEP, "--grid", "lr"], {}),
    ("sweep-set-unknown-field", [*SWEEP, "--set", "nosuch=1"], {}),
    ("sweep-set-bad-epochs", [*SWEEP, "--set", "epochs=0"], {}),
    ("sweep-set-no-equals", [*SWEEP, "--set", "epochs"], {}),
    ("sweep-negative-retries", [*SWEEP, "--retries", "-1"], {}),
    ("sweep-negative-concurrency", [*SWEEP, "--max-concurrent", "-1"], {}),
    ("sweep-negative-cpus", [*SWEEP, "--backend", "ray", "--num-cpus", "-1"], {}),
    ("sweep-negative-gpus", [*SWEEP, "--backend", "ray", "--num-gpus", "-1"], {}),
    ("sweep-no-resources", [*SWEEP, "--backend", "ray", "--num-cpus", "0", "--num-gpus", "0"], {}),
    ("sweep-nan-cpus", [*SWEEP, "--backend", "ray", "--num-cpus", "nan"], {}),
    ("sweep-unknown-backend", [*SWEEP, "--backend", "slurm"], {}),
    ("sweep-empty-id", [*SWEEP, "--sweep-id", ""], {}),
    ("sweep-id-with-slash", [*SWEEP, "--sweep-id", "../../escape"], {}),
    ("sweep-too-large", ["sweep", "--dataset", "digits", "--classes", "all", "--seeds", *map(str, range(1001))], {}),
    ("sweep-unknown-model", [*SWEEP, "--models", "nosuch"], {}),
    ("sweep-unknown-head", [*SWEEP, "--heads", "nosuch"], {}),
    ("sweep-negative-max-instances", [*SWEEP, "--max-instances", "-1"], {}),
    ("sweep-cancel-unknown", ["sweep-cancel", "nosuch"], {}),
    ("report-unknown", ["report", "nosuch", "--out", "{tmp}/report"], {}),
    ("compare-without-a-store", ["compare"], {}),
    ("compare-fresh-home", ["compare"], {"WEAKNEG_STORE": "sqlite:///{tmp}/home/runs.db"}),
    ("export-without-a-store", ["export", "mlflow", "--runs", "1", "--tracking-uri", "sqlite:///{tmp}/ml.db"], {}),
    # --- milcheck and bench
    ("milcheck-unknown-head", ["milcheck", "--head", "nosuch"], {}),
    ("milcheck-unknown-sampler", ["milcheck", "--sampler", "nosuch"], {}),
    ("milcheck-zero-epochs", ["milcheck", "--epochs", "0"], {}),
    ("milcheck-unknown-test", ["milcheck", "--test", "nosuch"], {}),
    ("bench-zero-repeats", ["bench", "--repeats", "0"], {}),
    ("bench-negative-pool", ["bench", "--pool-size", "-1"], {}),
    ("bench-zero-threads", ["bench", "--threads", "0"], {}),
]

NO_STORE_FLAG = {"datasets", "milcheck", "bench", ""}


def test_the_table_is_large_enough():
    assert len(CASES) >= 100 and len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("name, arguments, environment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    name, arguments, environment, tmp_path, monkeypatch, capfd, isolated_home
):
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    store = tmp_path / "runs.db"
    if (
        "--store" not in arguments
        and (arguments[:1] or [""])[0] not in NO_STORE_FLAG
        and "WEAKNEG_STORE" not in environment
        and "WEAKNEG_HOME" not in environment
    ):
        arguments += ["--store", f"sqlite:///{store}"]
    for key, value in environment.items():
        monkeypatch.setenv(key, value.replace("{tmp}", str(tmp_path)))
    monkeypatch.chdir(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*"))
    try:
        code = main(arguments)
    except SystemExit as stop:
        code = stop.code
    out, err = capfd.readouterr()
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and err.startswith("weakneg: error: "), err
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written: no store, no folders
    assert not Path(isolated_home).exists() or not any(Path(isolated_home).rglob("*"))
    assert not os.path.exists(store)
