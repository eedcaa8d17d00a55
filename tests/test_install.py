"""The package installs as a user installs it: the wheel is built from the sources, installed into a fresh venv
that sees only the core's dependencies (no extras), and runs a sampler and a digits run there.

The fresh venv gets the already-installed core distributions (torch, numpy, scikit-learn, ...: the closure of
pyproject's `dependencies` over what is installed here) through a .pth file pointing at a folder of links to
exactly those, so nothing is copied and the extras (streamlit, ray, mlflow, umap, matplotlib, soundfile, pyarrow)
are really absent there. pip installs the wheel with --no-index: it must find every core requirement satisfied."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from install_support import closure, project_requirements, top_level_paths

ROOT = Path(__file__).resolve().parents[1]
EXTRAS_ONLY = ("streamlit", "ray", "mlflow", "umap", "matplotlib", "plotly", "soundfile", "pyarrow", "psycopg")

pytestmark = pytest.mark.slow

PROBE = """
import json, sys
import weakneg
from weakneg.cli import main
code = main(sys.argv[1:])
missing = []
for name in EXTRAS:
    try:
        __import__(name)
    except ModuleNotFoundError:
        missing.append(name)
print(json.dumps({"code": code, "file": weakneg.__file__, "loaded": sorted(m for m in EXTRAS if m in sys.modules),
                  "absent": missing}), file=sys.stderr)
""".replace("EXTRAS", repr(EXTRAS_ONLY))


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory):
    """(venv folder, its python): weakneg's wheel installed against the core dependencies only."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "weakneg", source / "weakneg", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(tmp / "dist"), "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp / "dist").glob("weakneg-*.whl")

    core, _ = project_requirements(ROOT / "pyproject.toml")
    linked = tmp / "core-site"
    linked.mkdir()
    for dist in closure(core).values():
        for path in top_level_paths(dist):
            if path.exists() and not (linked / path.name).exists():
                (linked / path.name).symlink_to(path)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "weakneg-core-deps.pth").write_text(f"{linked}\n")
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    checked = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "check"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout
    return venv, python


def in_venv(venv: Path, *args, home: Path, cwd: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(WEAKNEG_HOME=str(home), PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    return subprocess.run([*map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_holds_the_engine_the_cli_and_py_typed(core_venv):
    venv, python = core_venv
    site = Path(
        subprocess.run(
            [python, "-c", "import weakneg, pathlib; print(pathlib.Path(weakneg.__file__).parent)"],
            capture_output=True,
            text=True,
            check=True,
            cwd=venv,
        ).stdout.strip()
    )
    assert site.parent.name == "site-packages" and venv in site.parents
    assert (site / "py.typed").is_file() and (site / "migrations" / "versions" / "0001_initial.py").is_file()
    assert not (site.parent / "app_pages").exists() and not (site.parent / "tests").exists()


def test_a_core_install_runs_a_sampler_on_digits_without_the_extras(core_venv, tmp_path):
    venv, python = core_venv
    version = in_venv(venv, venv / "bin" / "weakneg", "--version", home=tmp_path / "home", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("weakneg ")

    args = ["run", "--dataset", "digits", "--target-class", "3", "--epochs", "2", "--sampler", "badge", "--json"]
    done = in_venv(venv, python, "-c", PROBE, *args, home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stderr.strip().splitlines()[-1])
    result = json.loads(done.stdout)
    assert report["code"] == 0 and result["status"] == "finished" and result["epochs"] == 2
    assert 0 <= result["ap"] <= 1 and result["k"] > 0
    assert venv in Path(report["file"]).parents  # the installed copy ran, not the checkout
    assert report["loaded"] == []  # the run imported none of the extras ...
    assert report["absent"] == list(EXTRAS_ONLY)  # ... which are really not there

    listed = in_venv(venv, venv / "bin" / "weakneg", "list", "--json", home=tmp_path / "home", cwd=tmp_path)
    assert [r["id"] for r in json.loads(listed.stdout)] == [result["run_id"]]


def test_a_core_install_names_the_extra_a_feature_needs(core_venv, tmp_path):
    venv, python = core_venv
    table = tmp_path / "bags.parquet"
    table.write_bytes(b"PAR1")
    parquet = "reading Parquet needs pyarrow, which is not installed: pip install 'weakneg[app]'"
    cases = [
        (["run", "--data", str(table), "--target-class", "1"], parquet),
        (["serve"], "the app runs from a checkout of the repository"),
    ]
    for args, message in cases:  # bad input: one line, exit 2, nothing written
        done = in_venv(venv, venv / "bin" / "weakneg", *args, home=tmp_path / "home", cwd=tmp_path)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and message in lines[0], done.stderr
    assert not (tmp_path / "home" / "runs.db").exists()
    checked = in_venv(venv, venv / "bin" / "weakneg", "data", "check", table, home=tmp_path / "home", cwd=tmp_path)
    assert checked.returncode == 1 and parquet in checked.stdout  # `data check` lists a file's problems
    maps = in_venv(
        venv,
        python,
        "-c",
        "from weakneg.projection import map_method; print(map_method())",
        home=tmp_path,
        cwd=tmp_path,
    )
    assert maps.stdout.strip() == "pca"  # without umap-learn, workers still draw maps
    report = in_venv(
        venv,
        python,
        "-c",
        "import pathlib, pandas; from weakneg.report import figure1; figure1(pandas.DataFrame(), pathlib.Path('a'))",
        home=tmp_path,
        cwd=tmp_path,
    )
    assert (
        "drawing the report's charts needs matplotlib, which is not installed: pip install 'weakneg[app]'"
        in report.stderr
    )
