"""Kept settings: what a widget shows after a page switch or a language switch is what the page computes with.

The browser draws a widget from the element Streamlit sends: the value Streamlit pushes (`set_value`) or, when
nothing is pushed, the element's own default (slider minimum, first option). `shown()` reads that back from
the element, so these tests see what a student would see, not only the server's value.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.i18n import t

ROOT = Path(__file__).resolve().parent.parent
ENTRY = str(ROOT / "streamlit_app.py")
WIDGET_TYPES = ("slider", "select_slider", "number_input", "radio", "selectbox", "toggle", "checkbox", "button_group")
PERSISTING_CALLS = {
    "slider", "select_slider", "number_input", "radio", "selectbox", "multiselect", "toggle", "checkbox",
    "segmented_control", "pills", "text_input", "text_area", "color_picker", "date_input", "time_input",
}  # fmt: skip


def app(lang: str = "en") -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.session_state["keep_lang"] = lang
    return at.run()


def kept_widgets(at: AppTest) -> dict[str, object]:
    """Every widget on the current page whose key starts with keep_, by key."""
    return {w.key: w for typ in WIDGET_TYPES for w in at.get(typ) if w.key and w.key.startswith("keep_")}


def shown(widget) -> object:
    """What the browser displays for a freshly mounted widget: the pushed value, else the element default."""
    p = widget.proto
    kind = type(widget).__name__
    if kind == "Slider":
        return list(p.value) if p.set_value else list(p.default)
    if kind == "SelectSlider":
        return list(p.raw_value) if p.set_value else [p.options[int(i)] for i in p.default]
    if kind in ("NumberInput", "Checkbox", "Toggle"):
        return p.value if p.set_value else p.default
    if kind in ("Radio", "Selectbox"):
        if p.set_value:
            return p.raw_value
        return p.options[p.default] if p.HasField("default") else None
    if kind == "ButtonGroup":
        return list(p.raw_values) if p.set_value else [p.options[i].content for i in p.default]
    raise AssertionError(kind)


def expected(widget) -> object:
    """The server's value, written the way the element carries it."""
    kind = type(widget).__name__
    value = widget.value
    if kind == "Slider":
        return [float(v) for v in value] if isinstance(value, tuple) else [float(value)]
    if kind == "SelectSlider":
        return [widget.format_func(value)]  # as the option labels are written (e.g. "0,003" in Russian)
    if kind == "NumberInput":
        return float(value)
    if kind in ("Checkbox", "Toggle"):
        return bool(value)
    if kind in ("Radio", "Selectbox"):
        return None if value is None else widget.options[widget.index]
    if kind == "ButtonGroup":
        return [widget.format_func(v) for v in ([value] if not isinstance(value, list) else value) if v is not None]
    raise AssertionError(kind)


def assert_shows_what_it_uses(at: AppTest) -> None:
    wrong = {k: (shown(w), expected(w)) for k, w in kept_widgets(at).items() if shown(w) != expected(w)}
    assert not wrong, f"widget shows / page uses: {wrong}"


def widget(at: AppTest, key: str):
    return kept_widgets(at)[key]


# Non-default values for each page's kept widgets (those that need no upload or drawing to appear).
CHANGES = {
    "app_pages/noise_lab.py": {
        "keep_lab_mean": -20.0, "keep_lab_var": 600.0, "keep_lab_kind": "speckle", "keep_lab_speckle": 1.5,
        "keep_lab_clip": False, "keep_lab_count": 4, "keep_lab_seed": 7, "keep_lab_errors": True,
    },
    "app_pages/convolution.py": {
        "keep_conv_flip": True, "keep_conv_preset": "edge", "keep_sp_p": 2, "keep_sp_k": 5, "keep_tr_choice": "k4s2",
        "keep_sep_preset": "box_blur", "keep_1d_stride": 2,
    },
    "app_pages/compare.py": {"keep_compare_group": "A", "keep_compare_index": 42, "keep_compare_kind": "speckle"},
    "app_pages/inside.py": {"keep_inside_index": 42, "keep_inside_kind": "speckle", "keep_inside_speckle": 0.5},
    "app_pages/upload.py": {"keep_up_invert": "yes", "keep_up_threshold": 0.3, "keep_up_mode": "add_noise"},
    "app_pages/train.py": {"keep_train_epochs": 3, "keep_train_batch": 64, "keep_train_fresh": False},
    "app_pages/draw.py": {"keep_draw_stroke": 30, "keep_draw_add_noise": False},
}  # fmt: skip


# The explainer computes only its open tab: the tab each of its changed widgets is on (1-based).
CONV_TABS = {"keep_conv_flip": 1, "keep_conv_preset": 2, "keep_sp_p": 3, "keep_sp_k": 3, "keep_tr_choice": 4,
             "keep_sep_preset": 5, "keep_1d_stride": 7}  # fmt: skip


def tabs_of(path: str) -> list[int | None]:
    """The explainer's tabs that hold changed widgets; [None] (no tab to open) for the other pages."""
    return sorted({CONV_TABS[k] for k in CHANGES[path]}) if path == "app_pages/convolution.py" else [None]


def show_tab(at: AppTest, number: int | None) -> AppTest:
    if number is not None:
        at.session_state["conv_tab"] = t(f"conv.tab{number}", "en")
        at.run()
    return at


@pytest.mark.parametrize("path", list(CHANGES))
def test_page_round_trip_keeps_settings_and_shows_them(path):
    at = app("en")
    at.switch_page(path).run()
    before = {}
    for number in tabs_of(path):
        show_tab(at, number)
        for key, value in CHANGES[path].items():
            if number is None or CONV_TABS[key] == number:
                widget(at, key).set_value(value).run()
        before[number] = {k: w.value for k, w in kept_widgets(at).items()}
    other = "app_pages/compare.py" if path != "app_pages/compare.py" else "app_pages/inside.py"
    at.switch_page(other).run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    for number in tabs_of(path):
        show_tab(at, None if number == 1 else number)  # back on the page, the first tab is the open one
        after = {k: w.value for k, w in kept_widgets(at).items()}
        assert after == before[number]
        assert_shows_what_it_uses(at)


def test_lab_results_after_a_round_trip_are_those_of_the_shown_settings():
    at = app("en")
    for key, value in CHANGES["app_pages/noise_lab.py"].items():
        widget(at, key).set_value(value).run()
    metrics = [m.value for m in at.metric]
    at.switch_page("app_pages/inside.py").run()
    at.switch_page("app_pages/noise_lab.py").run()
    assert [m.value for m in at.metric] == metrics
    assert_shows_what_it_uses(at)
    at.run()  # the browser sends back what it shows: nothing may change
    assert [m.value for m in at.metric] == metrics


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        ("app_pages/noise_lab.py", "keep_lab_kind", "speckle"),
        ("app_pages/upload.py", "keep_up_mode", "add_noise"),
        ("app_pages/upload.py", "keep_up_invert", "no"),
        ("app_pages/compare.py", "keep_compare_group", "A"),
        ("app_pages/convolution.py", "keep_conv_preset", "emboss"),
    ],
)
def test_language_switch_keeps_translated_choices(path, key, value):
    at = app("ru")
    at.switch_page(path).run()
    if key in CONV_TABS:  # the explainer's tab, opened as a student clicks it (it stays open across the switch)
        at.session_state["conv_tab"] = t(f"conv.tab{CONV_TABS[key]}", "ru")
        at.run()
    widget(at, key).set_value(value).run()
    metrics = [m.value for m in at.metric]
    for lang in ("en", "ru"):
        at.sidebar.selectbox(key="keep_lang").set_value(lang).run()
        assert not at.exception, [e.value for e in at.exception]
        w = widget(at, key)
        assert w.value == value
        assert w.proto.set_value and w.proto.raw_value == w.options[w.index]  # the browser is told the new label
        assert_shows_what_it_uses(at)
    at.run()
    assert widget(at, key).value == value
    assert [m.value for m in at.metric] == metrics  # same numbers as before the two switches


def test_every_kept_widget_persists_across_pages():
    """The rule of lib/ui/frame.py: a widget with a keep_ key has persist_state="session"."""
    missing = []
    for path in [*ROOT.glob("app_pages/*.py"), *ROOT.glob("lib/ui/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in PERSISTING_CALLS:
                continue
            kw = {k.arg: k.value for k in node.keywords}
            key = kw.get("key")
            key_text = ast.unparse(key) if key is not None else ""
            if "keep" not in key_text and "keys[" not in key_text:
                continue
            persist = kw.get("persist_state")
            if not (isinstance(persist, ast.Constant) and persist.value == "session"):
                missing.append(f"{path.name}:{node.lineno} {key_text}")
    assert not missing, missing


def test_a_trained_model_stays_selected_on_every_page():
    at = app("ru")
    at.switch_page("app_pages/train.py").run()
    widget(at, "keep_train_subset").set_value(500).run()
    widget(at, "keep_train_epochs").set_value(1).run()
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    job.join(timeout=120)
    assert job.state == "done", job.summary()
    mine = f"workspace:{job.model_id}"  # kept in the workspace's store when it finished
    deadline = time.time() + 30
    while time.time() < deadline and at.session_state["keep_model"] != mine:
        at.run()  # the progress panel notices the finished job and selects its model
    assert job.name and at.session_state["keep_model"] == mine
    label = t("common.sidebar.my_model", "ru", n=1)
    for path in ("app_pages/noise_lab.py", "app_pages/inside.py", "app_pages/train.py", "app_pages/noise_lab.py"):
        at.switch_page(path).run()
        assert not at.exception, [e.value for e in at.exception]
        picker = at.sidebar.selectbox(key="keep_model")
        assert picker.value == mine
        assert shown(picker) == label
    at.sidebar.selectbox(key="keep_lang").set_value("en").run()
    assert shown(at.sidebar.selectbox(key="keep_model")) == t("common.sidebar.my_model", "en", n=1)


def test_a_language_chosen_on_another_page_is_shown_on_every_page():
    at = app("ru")
    at.switch_page("app_pages/inside.py").run()
    at.sidebar.selectbox(key="keep_lang").set_value("en").run()
    for path in ("app_pages/noise_lab.py", "app_pages/inside.py", "app_pages/compare.py", "app_pages/noise_lab.py"):
        at.switch_page(path).run()
        picker = at.sidebar.selectbox(key="keep_lang")
        assert picker.value == "en" and shown(picker) == "English"
        assert shown(at.sidebar.selectbox(key="keep_model")) == t("model.short.table1", "en") + " · B"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_model_picker_names_are_short_and_distinct_with_details_in_help(lang):
    at = app(lang)
    picker = at.sidebar.selectbox(key="keep_model")
    assert len(set(picker.options)) == len(picker.options)
    assert all(len(label) <= 20 for label in picker.options), picker.options  # fits the closed picker
    assert t("model.short.table1", lang) + " · " + t("noise.group.short.B", lang) in picker.options
    assert t("model.short.table1", lang) + " · " + t("noise.group.short.A", lang) in picker.options
    assert "table1_B" in picker.help and t("model.table1", lang) in picker.help  # the full description


def test_choices_on_other_pages_follow_a_language_switch_made_elsewhere():
    at = app("ru")
    widget(at, "keep_lab_kind").set_value("speckle").run()
    at.switch_page("app_pages/upload.py").run()
    widget(at, "keep_up_mode").set_value("add_noise").run()
    at.switch_page("app_pages/compare.py").run()
    at.sidebar.selectbox(key="keep_lang").set_value("en").run()
    for path, key, value in (("app_pages/noise_lab.py", "keep_lab_kind", "speckle"),
                             ("app_pages/upload.py", "keep_up_mode", "add_noise")):  # fmt: skip
        at.switch_page(path).run()
        assert widget(at, key).value == value
        assert_shows_what_it_uses(at)
        at.run()  # the browser sends back what it shows
        assert widget(at, key).value == value


def test_short_model_labels_stay_distinct():
    from dataclasses import replace

    from lib import checkpoint
    from lib.ui.cache import LoadedModel
    from lib.ui.frame import short_model_labels

    table1_b = checkpoint.load(ROOT / "weights" / "table1_B.pt")
    augmented = replace(table1_b, train={**table1_b.train, "augment": True})
    models = {
        "shipped:table1_B": LoadedModel("shipped:table1_B", table1_b, None),
        "shipped:table1_B_copy": LoadedModel("shipped:table1_B_copy", table1_b, None),
        "shipped:table1_B_aug": LoadedModel("shipped:table1_B_aug", augmented, None),
        "session:run-1": LoadedModel("session:run-1", table1_b, None),
        "session:upload": LoadedModel("session:upload", table1_b, None),
    }
    assert list(short_model_labels(models, "ru").values()) == [
        "Табл. 1 · Б", "Табл. 1 · Б #2", "Табл. 1 · Б · аугм.", "Моя модель 1", "Моя модель 2",
    ]  # fmt: skip
