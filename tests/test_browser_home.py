"""The home page in a real browser: it renders, lists the datasets and says how to start."""

from browser_support import chromium_page, streamlit_app


def test_home_page_in_chromium(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with streamlit_app(home) as url, chromium_page() as page:
        page.goto(url)
        page.get_by_text("Datasets").first.wait_for(timeout=30000)
        assert page.get_by_text("digits").first.is_visible()
        page.screenshot(path=str(tmp_path / "home.png"))
