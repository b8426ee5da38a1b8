"""The layout helpers' Python side: canvas size from a measured column, translated canvas buttons."""

from __future__ import annotations

import pytest

from lib.i18n import LANGUAGES, t
from lib.ui.style import CANVAS_BUTTONS, canvas_side


@pytest.mark.parametrize(
    ("width", "side"),
    [(None, 280), (358, 356), (372, 372), (379, 376), (1000, 420), (150, 148)],
)
def test_the_canvas_fills_its_column_up_to_420_px(width, side):
    assert canvas_side(width) == side


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_canvas_button_has_a_translated_name(lang):
    for key in CANVAS_BUTTONS.values():
        assert t(key, lang) != key
    if lang == "ru":  # the component's own English names are not what a Russian student sees
        assert all(t(key, "ru") != english for english, key in CANVAS_BUTTONS.items())
