"""One registry of negative samplers; one module per family registers its samplers on import, here, in the order
lists show them. `select` runs any of them on plain tensors (samplers/plain.py)."""

from .base import SAMPLERS, Pool, SamplerSpec, Selection, by_score, get_sampler, register, top_k
from . import baselines, uncertainty, gradient, badge, divergence, svm, coreset, adaptive, mix  # noqa: F401,I001
from . import adaptive_multilabel  # noqa: F401,I001  (multi-label runs; binary runs too)
from .plain import select

__all__ = ["Pool", "SAMPLERS", "SamplerSpec", "Selection", "by_score", "get_sampler", "register", "select", "top_k"]
