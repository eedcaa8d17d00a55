"""weakneg: negative sampling for weak-label learning (the engine; never imports streamlit).

From your own training loop: `weakneg.select(name, k, logits=..., features=...)` (see weakneg/samplers/plain.py).
`import weakneg` itself loads nothing heavy: `select` and the sampler registry are imported when first used.
"""

__version__ = "0.1.0"

LAZY = {"select": "weakneg.samplers", "Selection": "weakneg.samplers", "SAMPLERS": "weakneg.samplers"}

__all__ = ["SAMPLERS", "Selection", "__version__", "select"]


def __getattr__(name: str):
    if name in LAZY:
        import importlib

        value = getattr(importlib.import_module(LAZY[name]), name)
        globals()[name] = value  # once: later lookups skip this function
        return value
    raise AttributeError(f"module 'weakneg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *LAZY})
