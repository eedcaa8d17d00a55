"""One registry of negative samplers; one module per family registers its samplers on import."""

from . import baselines  # noqa: F401  (registers random, full)
from . import uncertainty, gradient, badge, divergence, svm, coreset, adaptive, mix  # noqa: F401,I001  (register the rest)
from . import adaptive_multilabel  # noqa: F401,I001  (multi-label runs; binary runs too)
from .base import SAMPLERS, Pool, SamplerSpec, Selection, get_sampler, register, score_sampler, top_k

__all__ = ["Pool", "SAMPLERS", "SamplerSpec", "Selection", "get_sampler", "register", "score_sampler", "top_k"]
