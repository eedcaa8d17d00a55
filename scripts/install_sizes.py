"""What `pip install weakneg` and `pip install 'weakneg[all]'` put on disk, measured on the installed files of this
venv (each distribution's RECORD), for the versions installed here. Torch here is the CUDA build: its nvidia-*
libraries are most of the core; a CPU-only torch wheel is a fraction of that.

    .venv/bin/python scripts/install_sizes.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from install_support import closure, project_requirements, size_on_disk  # noqa: E402


def main() -> None:
    core, extras = project_requirements(ROOT / "pyproject.toml")
    sets = {"core": core, **{f"core + [{name}]": core + extras[name] for name in extras}}
    for label, requirements in sets.items():
        dists = closure(requirements)
        torch = [d for name, d in dists.items() if name.startswith(("nvidia-", "triton", "torch", "cuda-"))]
        rest = [d for name, d in dists.items() if not name.startswith(("nvidia-", "triton", "torch", "cuda-"))]
        print(
            f"{label:20s} {len(dists):4d} distributions  {size_on_disk(dists.values()) / 2**20:6,.0f} MiB: "
            f"torch and its CUDA libraries {size_on_disk(torch) / 2**20:6,.0f} MiB, "
            f"the rest {size_on_disk(rest) / 2**20:5,.0f} MiB"
        )


if __name__ == "__main__":
    main()
