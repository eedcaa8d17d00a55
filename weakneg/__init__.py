"""weakneg: negative sampling for weak-label learning (the engine; never imports streamlit)."""

from .version import __version__

__all__ = ["__version__"]
