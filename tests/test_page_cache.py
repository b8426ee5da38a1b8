"""What the heavy pages compute is computed once per server: a second student's first visit reuses it."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.runtime.caching.cache_resource_api import _resource_caches

from lib.ui import plots
from lib.ui.examples import example_row
from lib.ui.section5 import figure_row
from tests.apptest import image_urls, no_exception, open_tab, page


def cached_entries(name: str) -> int:
    """How many values the server-wide cache of the function `name` holds now.

    Streamlit's cache statistics give one count per function (server.enableExpensiveMemoryStats is off).
    """
    stats = _resource_caches.get_stats().get("cache_memory_bytes", [])
    return sum(s.byte_length for s in stats if s.cache_name.endswith(f".{name}"))


def chart_specs(at) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


def test_second_session_reuses_the_explainer_grids():
    first, seen = page("app_pages/convolution.py"), []
    for number in range(1, 9):  # only the open tab is computed: open each in turn
        seen += chart_specs(open_tab(first, number))
        no_exception(first)
    built = cached_entries("grid")
    assert built >= 15  # the explainer's number grids are kept for the next student
    second, again = page("app_pages/convolution.py"), []
    for number in range(1, 9):
        again += chart_specs(open_tab(second, number))
        no_exception(second)
    assert cached_entries("grid") == built  # nothing new was built for the second student
    assert again == seen  # and they see the same figures


def test_second_session_reuses_the_compare_pictures():
    first = page("app_pages/compare.py")
    no_exception(first)
    rows, figure_rows = cached_entries("example_row"), cached_entries("figure_row")
    assert rows >= 1 and figure_rows >= 4  # the example row and the section 5 figure rows are kept
    second = page("app_pages/compare.py")
    no_exception(second)
    assert (cached_entries("example_row"), cached_entries("figure_row")) == (rows, figure_rows)
    assert image_urls(second) == image_urls(first)  # the same pictures (media ids are content hashes)
    assert chart_specs(second) == chart_specs(first)


def test_a_grid_is_shared_only_for_equal_arguments():
    values = np.arange(9.0).reshape(3, 3)
    fig = plots.grid(values, "t", [(1, 1)])
    assert plots.grid(values.copy(), "t", [(1, 1)]) is fig
    other = plots.grid(values, "t", [(2, 2)])
    assert other is not fig
    assert {(s.x0, s.y0) for s in other.layout.shapes} == {(1.5, 1.5)}  # a black and a white dotted frame
    assert plots.grid(values + 1, "t", [(1, 1)]).data[0].text[0][0] == "1"


def test_shared_pictures_cannot_be_changed_by_a_session(test_digits):
    images = example_row("B", "gaussian", 7, (), ())
    assert len(images) >= 2 and all(not im.flags.writeable for im in images)
    with pytest.raises(ValueError):
        images[1][0, 0] = 1.0
    digit = test_digits.images[3].float().numpy() / 255.0
    pictures, noisy_psnr, scores = figure_row(digit, "gaussian", 0, (), ())
    assert len(pictures) == 2 and noisy_psnr is not None and scores == []
    assert all(not p.flags.writeable for p in pictures)
