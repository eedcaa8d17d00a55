"""Typed sampler parameters: every declared parameter refuses what the engine cannot run, before anything runs;
the command line exits 2 and writes nothing; the defaults themselves pass their own declarations."""

import pytest

from weakneg.cli import main
from weakneg.config import RunConfig
from weakneg.errors import ConfigError
from weakneg.samplers import SAMPLERS
from weakneg.samplers.params import Param


def test_every_default_passes_its_own_declaration_and_every_parameter_is_typed():
    for name, spec in SAMPLERS.items():
        assert set(spec.param_types) == set(spec.params), name  # no untyped parameter left
        for key, param in spec.param_types.items():
            assert param.help, (name, key)
            assert param.check(name, key, spec.params[key]) == spec.params[key]


@pytest.mark.parametrize(
    "sampler, params, message",
    [
        ("badge", {"label": "foo"}, "parameter label must be one of known, predicted, got 'foo'"),
        ("grad_norm", {"label": True}, "parameter label must be one of known, predicted"),
        ("svm_margin", {"C": 0}, "parameter C must be a finite number greater than 0, got 0"),
        ("svm_margin", {"max_iter": 2.5}, "parameter max_iter must be a whole number from 1 to 1,000,000"),
        ("svm_margin", {"max_iter": 10**7}, "from 1 to 1,000,000"),
        ("adaptive", {"levels": 0}, "levels must be a whole number at least 1 or null"),
        ("adaptive", {"warmup_epochs": "two"}, "warmup_epochs must be a whole number at least 0"),
        ("mix", {"w_similarity": float("nan")}, "w_similarity must be a finite number at least 0"),
        ("mix", {"w_similarity": float("inf")}, "finite number"),
    ],
)
def test_run_config_refuses_bad_values_with_the_rule(sampler, params, message):
    with pytest.raises(ConfigError) as error:
        RunConfig(sampler=sampler, sampler_params=params).validate()
    assert message in str(error.value)


def test_good_values_are_normalised_not_replaced():
    spec = SAMPLERS["adaptive"]
    assert spec.check_params({"selection_pressure": 2, "warmup_epochs": 3.0, "levels": None}) == {
        "selection_pressure": 2.0,
        "warmup_epochs": 3,
        "levels": None,
    }
    assert isinstance(spec.check_params({"selection_pressure": 2})["selection_pressure"], float)
    RunConfig(sampler="badge", sampler_params={"label": "known"}).validate()


def test_a_param_says_its_rule_in_words():
    assert Param(0.5, "float", "x", minimum=0, maximum=1).bounds_text() == "a finite number from 0 to 1"
    assert Param(1, "int", "x", above=0, maximum=9).bounds_text() == "a whole number greater than 0 and at most 9"
    assert Param(True, "bool", "x").bounds_text() == "true or false"
    with pytest.raises(ValueError):
        Param(1, "complex")


def test_cli_refuses_a_bad_choice_with_exit_2_and_writes_no_store(isolated_home, capsys):
    code = main(
        ["run", "--dataset", "digits", "--target-class", "3", "--sampler", "badge", "--sampler-param", "label=foo"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "parameter label must be one of known, predicted, got 'foo'" in err[0]
    assert not (isolated_home / "runs.db").exists()
