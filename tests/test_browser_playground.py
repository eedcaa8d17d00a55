"""The playground in a real browser: it draws every chosen sampler, and a slider change re-draws the plots."""

import pytest
from playwright.sync_api import expect

from browser_support import chart_data, chromium_page, streamlit_app, wait_until_charts_drawn

pytestmark = pytest.mark.slow  # a real browser and a served app


def test_playground_redraws_after_a_slider_change(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with streamlit_app(home) as url, chromium_page(1600, 1900) as page:
        page.goto(url)
        page.get_by_text("Datasets").first.wait_for(timeout=60000)  # app.py's navigation is in place
        page.get_by_role("link", name="Playground").click()  # through the app's navigation, as a user would
        explanation = page.get_by_text("negative bags. They come").first  # the first sampler's caption
        explanation.wait_for(timeout=60000)
        plots = page.locator(".js-plotly-plot")
        expect(plots).to_have_count(4, timeout=30000)  # three samplers side by side + the metrics chart
        wait_until_charts_drawn(page)
        page.screenshot(path=str(tmp_path / "playground-before.png"), full_page=True)
        first_plot = chart_data(page)
        before = explanation.inner_text()

        overlap = page.locator('[data-testid="stSlider"]').filter(has_text="overlap").get_by_role("slider")
        overlap.focus()
        overlap.press("End")  # overlap 1: the near misses land on the concept

        expect(explanation).not_to_have_text(before, timeout=60000)
        expect(page.locator('[data-testid="stSlider"]').filter(has_text="overlap")).to_contain_text("1.00")
        expect(plots).to_have_count(4)
        page.wait_for_function(
            "before => JSON.stringify(document.querySelector('.js-plotly-plot').data"
            ".map(trace => [trace.x, trace.y])) !== before",
            arg=first_plot,
            timeout=60000,
        )
        wait_until_charts_drawn(page)
        assert chart_data(page) != first_plot  # the chosen negatives moved with the concept
        assert "overlap=1.0" in page.url  # the URL holds the settings, so the picture can be bookmarked
        navigation = page.locator('[data-testid="stSidebarNav"]')
        assert navigation.get_by_text("Playground", exact=True).count() == 1  # app.py's page titles
        page.screenshot(path=str(tmp_path / "playground-after.png"), full_page=True)
