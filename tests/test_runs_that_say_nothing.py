"""Runs that cannot tell anything about their sampler are refused (k = 0, all mix weights 0) or warned (k reaches
the whole pool) with the engine's one message, in the engine, the Launch form, the command line and sweeps alike."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from weakneg.config import RunConfig, check_negatives, negatives_warning
from weakneg.errors import ConfigError
from weakneg.samplers import get_sampler
from weakneg.store import RunStore
from weakneg.sweep import SweepConfig, check_data
from weakneg.train import prepare, sampler_warnings

ROOT = Path(__file__).resolve().parents[1]
ZERO_MIX = {"w_uncertainty": 0, "w_similarity": 0.0, "w_diversity": 0}


def cli(*args, home):
    env = {**os.environ, "WEAKNEG_HOME": str(home), "WEAKNEG_MAX_CONCURRENT": "0"}
    return subprocess.run(
        [sys.executable, "-m", "weakneg", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_rule_by_hand():
    # 40 positives at r = 100: 40 / 100 = 0.4 rounds to 0 negatives per epoch: refused
    with pytest.raises(ConfigError, match=r"no negatives per epoch: k = round\(40 / 100\) = 0"):
        check_negatives(40, 100.0, 211)
    assert check_negatives(40, 79.0, 211) == 1
    # the bound the message names is exact: 40 / 80 = 0.5 rounds (half to even) to 0, anything below 80 gives 1
    with pytest.raises(ConfigError, match=r"round\(40 / 80\) = 0; lower the P-N ratio \(below 80 gives k >= 1\)"):
        check_negatives(40, 80.0, 211)
    assert check_negatives(40, 79.999, 211) == 1
    # k = round(40 / 0.1) = 400 >= 211: allowed (capped), warned
    assert check_negatives(40, 0.1, 211) == 211
    assert "is the whole pool of 211 negatives" in negatives_warning(40, 0.1, 211)
    assert negatives_warning(40, 0.1, 211, sampler="full") is None  # the whole pool is what `full` means
    assert negatives_warning(40, 0.5, 211) is None


def test_mix_with_every_weight_zero_is_refused_everywhere_it_is_checked():
    message = "all three weights are 0"
    with pytest.raises(ConfigError, match=message):
        RunConfig(sampler="mix", sampler_params=dict(ZERO_MIX)).validate()
    RunConfig(sampler="mix", sampler_params={"w_uncertainty": 0, "w_similarity": 0}).validate()  # one is left
    with pytest.raises(ConfigError, match=message):  # every call of the sampler checks its parameters the same way
        get_sampler("mix").check_params(dict(ZERO_MIX))


def test_prepare_refuses_k_zero_and_warns_at_the_whole_pool():
    with pytest.raises(ConfigError, match="no negatives per epoch"):
        prepare(RunConfig(pn_ratio=100.0))
    cfg = RunConfig(pn_ratio=0.05)
    assert sampler_warnings(cfg, prepare(cfg)) == [negatives_warning(40, 0.05, 211)]


def test_sweeps_apply_the_rule_to_every_ratio_of_one_data_setting():
    # one data setting, two ratios: the bags are built once, yet the ratio that gives k = 0 is still refused
    sweep = SweepConfig(grid={"classes": [0], "samplers": ["random"], "pn_ratios": [0.5, 100.0]})
    with pytest.raises(ConfigError, match=r"no negatives per epoch: k = round\(40 / 100\) = 0"):
        check_data(sweep.expand())
    warned = SweepConfig(grid={"classes": [0], "samplers": ["random", "entropy"], "pn_ratios": [0.5, 0.05]})
    expected = [negatives_warning(40, 0.05, 211, sampler) for sampler in ("random", "entropy")]
    assert check_data(warned.expand()) == expected  # once per sampler, not once per run


def test_the_command_line_refuses_with_one_line_and_writes_nothing(isolated_home):
    refused = cli("run", "--target-class", "0", "--pn-ratio", "100", "--epochs", "1", home=isolated_home)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().count("\n") == 0 and "no negatives per epoch" in refused.stderr
    mix = cli(
        "run",
        "--target-class",
        "0",
        "--sampler",
        "mix",
        *[f"--sampler-param={k}=0" for k in ZERO_MIX],
        home=isolated_home,
    )
    assert mix.returncode == 2 and "all three weights are 0" in mix.stderr and mix.stderr.count("\n") == 1
    sweep = cli("sweep", "--classes", "0", "--samplers", "random", "--pn-ratios", "100", "--yes", home=isolated_home)
    assert sweep.returncode == 2 and "no negatives per epoch" in sweep.stderr
    assert not (isolated_home / "runs.db").exists()


def test_the_command_line_warns_when_k_takes_the_whole_pool(isolated_home):
    done = cli(
        "run",
        "--target-class",
        "0",
        "--pn-ratio",
        "0.05",
        "--epochs",
        "1",
        "--save-embeddings",
        "none",
        home=isolated_home,
    )
    assert done.returncode == 0, done.stderr
    assert f"weakneg: warning: {negatives_warning(40, 0.05, 211)}" in done.stderr.splitlines()
    assert "211 of 211 negatives per epoch" in done.stdout


@pytest.fixture
def launch_form(monkeypatch):
    monkeypatch.setenv("WEAKNEG_MAX_CONCURRENT", "0")
    for name in ("WEAKNEG_READONLY", "WEAKNEG_MAX_EPOCHS", "WEAKNEG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("app_pages/launch.py")
    return app.run()


def launch_disabled(app) -> bool:
    return next(b for b in app.button if b.label == "Launch").disabled


def test_the_form_refuses_k_zero_and_zero_weights_and_warns_at_the_whole_pool(launch_form):
    app = launch_form
    app.selectbox(key="dataset").set_value("digits").run()
    app.number_input(key="pn_ratio").set_value(100.0).run()
    assert any("no negatives per epoch" in e.value for e in app.error) and launch_disabled(app)
    app.number_input(key="pn_ratio").set_value(0.01).run()
    assert not app.error and not launch_disabled(app)
    assert any("is the whole pool of" in w.value for w in app.warning)
    app.number_input(key="pn_ratio").set_value(0.5).run()
    assert not app.warning
    app.selectbox(key="sampler").set_value("mix").run()
    for name in ZERO_MIX:
        app.number_input(key=f"param_mix_{name}").set_value(0.0).run()
    assert any("all three weights are 0" in e.value for e in app.error) and launch_disabled(app)
    assert RunStore().count_runs() == 0
