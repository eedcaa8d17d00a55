"""docs/definitions.md says what the code computes: the app's sampler and head descriptions appear there word for
word, every registered sampler and head is defined, and no code points to design notes outside the repository."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from weakneg import claims, comparison, paired_stats
from weakneg.claims import BETTER, NO_DIFFERENCE, TOO_FEW, TOO_FEW_CLASSES, WORSE
from weakneg.models.heads import HEAD_DESCRIPTIONS, HEADS
from weakneg.samplers import SAMPLERS

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "docs" / "definitions.md").read_text(encoding="utf-8")
GENERATOR = ROOT / "scripts" / "sampler_definitions.py"


def generator():
    spec = importlib.util.spec_from_file_location("sampler_definitions", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sampler_list_is_the_registrys():
    """docs/definitions.md's sampler list is generated: it fails here when a description changed without
    `python scripts/sampler_definitions.py`, and a hand edit of the list is undone by the script."""
    assert generator().with_samplers(TEXT) == TEXT, "run: python scripts/sampler_definitions.py"
    edited = TEXT.replace(SAMPLERS["coreset"].description, "a hand-written description")
    assert edited != TEXT and generator().with_samplers(edited) == TEXT


def test_the_generator_checks_from_the_command_line():
    done = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_sampler_and_head_is_defined_in_the_apps_words():
    for name, spec in SAMPLERS.items():
        assert f"**`{name}`**" in TEXT and spec.description in TEXT, name
    for name in HEADS:
        assert f"`{name}`" in TEXT and HEAD_DESCRIPTIONS[name] in TEXT, name


def test_the_statistics_named_are_the_ones_computed():
    for field in comparison.NOT_RESULTS:
        assert f"`{field}`" in TEXT
    verdicts = (BETTER, WORSE, NO_DIFFERENCE, TOO_FEW, TOO_FEW_CLASSES)
    for verdict in verdicts:
        assert f"`{verdict}`" in TEXT
    assert 'method="holm"' in TEXT and f"below **{claims.MIN_CLASSES} classes**" in TEXT
    assert f"only from **{claims.RANK_TEST_MIN_CLASSES} classes**" in TEXT
    for key in paired_stats.CLAIMS + paired_stats.CLAIM_FIELDS:
        assert f"`{key}`" in TEXT or f'`"{key}"`' in TEXT, key


def test_code_points_to_the_repositorys_definitions_only():
    for path in [*ROOT.glob("weakneg/**/*.py"), *ROOT.glob("app_pages/*.py"), *ROOT.glob("tests/*.py")]:
        assert "DESIGN" + ".md" not in path.read_text(encoding="utf-8"), path  # spelled apart so this file passes too
