"""Write docs/definitions.md's list of samplers from the sampler registry (the descriptions the app shows).

    python scripts/sampler_definitions.py          # rewrite the list between the markers
    python scripts/sampler_definitions.py --check  # exit 1 when the file and the registry disagree

tests/test_definitions.py fails when they disagree: change a description in weakneg/samplers/, then run this.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "definitions.md"
BEGIN = "<!-- samplers: generated from the registry by scripts/sampler_definitions.py; edit weakneg/samplers/ -->"
END = "<!-- end of the generated samplers -->"
PARTS = {"features": "features", "gradients": "gradient embeddings"}


def sampler_lines() -> list[str]:
    """One line per registered sampler: name, parameters with defaults, description, what it reads."""
    sys.path.insert(0, str(ROOT))
    from weakneg.samplers import SAMPLERS

    lines = []
    for name, spec in SAMPLERS.items():
        params = ", ".join(f"{key}={value}" for key, value in spec.params.items())
        reads = [PARTS[part] for part in sorted(spec.reads)]
        if spec.uses_scores:
            reads.insert(0, "logits")
        if spec.uses_scores and spec.uses_positives:
            reads.append("positive bags")
        shown = ", ".join(reads) or "nothing (no scoring pass)"
        lines.append(f"- **`{name}`**{f' [{params}]' if params else ''}: {spec.description} *Reads: {shown}.*")
    return lines


def with_samplers(text: str) -> str:
    """The document with its generated section replaced by the registry's."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the markers {BEGIN!r} and {END!r} around the sampler list")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + "\n".join(sampler_lines()) + "\n" + END + tail


def main(argv: list[str]) -> int:
    text = DOC.read_text(encoding="utf-8")
    wanted = with_samplers(text)
    if "--check" in argv:
        if wanted != text:
            print(f"{DOC.relative_to(ROOT)} disagrees with the sampler registry: run python {__file__}")
            return 1
        return 0
    if wanted != text:
        DOC.write_text(wanted, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
