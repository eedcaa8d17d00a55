"""weakneg: negative sampling for weak-label learning (the engine; never imports streamlit)."""

__version__ = "0.1.0"
