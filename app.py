"""weakneg: the Streamlit app. Pages live in pages/; this file only wires the navigation."""

import streamlit as st

st.set_page_config(page_title="weakneg", page_icon=":material/scatter_plot:", layout="wide")

navigation = st.navigation([st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)])
navigation.run()
