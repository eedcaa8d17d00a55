"""The field a declared sampler parameter asks for, shared by Launch and Sweeps. Not a page: they import it."""

import streamlit as st

from weakneg.config import parse_value
from weakneg.samplers.params import Param


def param_field(sampler: str, name: str, param: Param, key_prefix: str = "param"):
    """A choice is a select box, a flag a checkbox, a number a number box without bounds, so every value reaches the
    engine unchanged and the engine says what is wrong (the page keeps Launch disabled until it is fixed)."""
    key, label, help_ = f"{key_prefix}_{sampler}_{name}", f"{sampler}: {name}", f"{param.help} ({param.bounds_text()})"
    if param.kind == "choice":
        return st.selectbox(label, param.choices, index=param.choices.index(param.default), key=key, help=help_)
    if param.kind == "bool":
        return st.checkbox(label, value=param.default, key=key, help=help_)
    if param.nullable:  # empty = null, so a text field: a number box cannot be empty
        return parse_value(
            st.text_input(label, "" if param.default is None else str(param.default), key=key, help=help_)
        )
    if param.kind == "int":
        return st.number_input(label, value=param.default, step=1, key=key, help=help_)
    return st.number_input(label, value=float(param.default), key=key, format="%g", help=help_)
