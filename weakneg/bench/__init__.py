"""`make bench`: speed figures, each a ratio of two timings taken in the same run.

- `suite`: our samplers against one inference pass, gradient embeddings against autograd, BADGE against its
  original algorithm; the entry point `run_benchmark`.
- `peers`: the same selections by scikit-learn, scikit-activeml and the original BADGE on identical inputs.
- `epoch`: one training epoch against a minimal plain PyTorch loop.
- `reference`: the straightforward implementations the figures compare against.
"""

from .suite import QUICK, BenchSettings, run_benchmark

__all__ = ["QUICK", "BenchSettings", "run_benchmark"]
