"""Draw a digit: the canvas goes through to_mnist step by step, gets noise and is cleaned by every model."""

from dataclasses import asdict

import streamlit as st

from lib.canvas import canvas_to_image, check_drawing, ink_mask, same_drawing
from lib.lab import clean_digit
from lib.preprocess import check_digit, to_mnist_steps
from lib.report import ReportItem
from lib.store import StoreError
from lib.store.items import cleaned_to_record
from lib.ui import cache, drawing, workspace
from lib.ui.frame import frame
from lib.ui.section5 import remember_digit
from lib.ui.style import CANVAS_BOX, canvas_side, column_width
from lib.ui.widgets import comparison_models, noise_controls, render_cleaned, render_steps

REPORT = "report_drawings"
DRAWING_MASK = "drawing_mask"  # the last drawing's ink on a coarse grid: tells a new drawing from more strokes
DRAWING_NUMBER = "drawing_number"  # how many drawings this session has made
BASE_SIDE = 280  # the stroke-width slider is in pixels of a canvas this wide; wider canvases scale it

f = frame("draw.page")
st.caption(f.t("draw.intro"))
with st.sidebar:
    stroke = st.slider(f.t("draw.stroke"), 6, 40, 20, key="keep_draw_stroke", persist_state="session")
    add = st.toggle(f.t("draw.add_noise"), True, key="keep_draw_add_noise", persist_state="session")
    noise = noise_controls(f, "draw", kinds=("gaussian", "speckle")) if add else None
    seed = st.number_input(f.t("lab.seed"), 0, 2**31 - 1, 0, key="keep_draw_seed", persist_state="session")

try:
    from streamlit_drawable_canvas import st_canvas
except Exception:  # the component registers only under `streamlit run`
    st_canvas = None


SOURCES = ("canvas", "test")  # drawing needs a pointer; a test digit can be picked with the keyboard alone
source = st.radio(f.t("draw.source"), SOURCES, horizontal=True, key="keep_draw_source", persist_state="session",
                  format_func=lambda s: f.t(f"draw.source.{s}"), help=f.t("draw.no_mouse_help"))  # fmt: skip


def show_result(final, name: str, steps=None, strokes=None) -> None:
    """The digit's preparation steps (for a drawing), then noise and every model's cleaning, and the report button
    (the digit and its row are kept in the workspace first; the report reads them back from there)."""
    remember_digit(name, final)  # Compare runs section 5 on "my digits"
    if steps is not None:
        st.session_state["last_drawing"] = final  # the explainer can filter it too
        st.markdown(f"**{f.t('draw.steps')}**")
        render_steps(f, steps)
    models = comparison_models(f)
    cleaned = clean_digit(models, final, noise, int(seed), cache.device())
    st.markdown(f"**{f.t('draw.result')}**")
    render_cleaned(f, cleaned, noise_added=noise is not None, key="draw", subject=None if steps is not None else name)
    if st.button(f.t("draw.add_to_report"), key="draw_add_report"):
        if f.workspace_id:
            try:
                n = keep_drawing(f.workspace_id, final, strokes, cleaned, noise, int(seed),
                                 "drawn" if steps is not None else "mnist")  # fmt: skip
            except StoreError as exc:
                st.error(exc.text(f.lang))
            else:
                st.toast(f.t("draw.added", n=n))
        else:
            items = st.session_state.setdefault(REPORT, [])
            items.append(ReportItem(name, cleaned, "drawn", noise, int(seed), steps))  # the name Compare shows too
            st.toast(f.t("draw.added", n=len(items)))


@st.fragment
def canvas_part() -> None:
    if st_canvas is None:
        st.info(f.t("draw.no_canvas"))
        return
    left, right = st.columns(2)  # half the page: a canvas big enough for a finger on a tablet
    with left, st.container(key=CANVAS_BOX):
        # the component draws at a fixed pixel size: fit it to the column the browser measured, and draw it
        # only once measured (a moment after the page appears), so it never changes size under a finger
        width = column_width("canvas_fit_draw", f.lang)
        result = None
        if width is not None:
            side = canvas_side(width)
            result = st_canvas(
                stroke_width=max(1, round(stroke * side / BASE_SIDE)), stroke_color="#FFFFFF",
                background_color="#000000", height=side, width=side, drawing_mode="freedraw",
                return_image_data=True, key=drawing.canvas_key(), initial_drawing=drawing.initial_drawing(f.workspace_id, side),
            )  # fmt: skip
            if drawing.shows_kept(side):  # the component's bin returns to the drawing it started with
                st.caption(f.t("draw.toolbar_kept"))
                st.button(f.t("draw.clear"), key="draw_clear", help=f.t("draw.clear_help"), on_click=drawing.clear,
                          args=(f.workspace_id, side))  # fmt: skip
            else:
                st.caption(f.t("draw.toolbar"))
        else:
            st.caption(f.t("draw.toolbar"))
    with right:
        image_data = getattr(result, "image_data", None) if result is not None else None
        # a reopened page: the canvas redraws the kept strokes but sends nothing until the next stroke
        kept_picture = drawing.restored_picture(f.workspace_id) if image_data is None and result is not None else None
        if image_data is None and kept_picture is None:
            st.info(f.t("draw.empty"))
            return
        try:
            picture = canvas_to_image(image_data) if image_data is not None else kept_picture
            if image_data is not None:  # kept before it is shown
                drawing.keep_strokes(f.workspace_id, getattr(result, "json_data", None), side, picture)
            check_canvas = check_drawing(picture)
            if check_canvas.problem not in (None, "empty"):  # filled, scribbled over, a dot, scattered marks
                st.warning(f.t(f"draw.problem.{check_canvas.problem}", ink=check_canvas.ink_fraction,
                               box=check_canvas.box_fraction, blobs=check_canvas.blobs))  # fmt: skip
                return
            steps = to_mnist_steps(picture, invert="no")  # the canvas is white ink on black: never invert it
        except ValueError:  # PreprocessError (no ink) or canvas data of an unexpected shape
            st.info(f.t("draw.empty"))
            return
        check = check_digit(steps.final)
        if not check.looks_like_digit:
            st.warning(f.t("draw.not_digit", ink=100 * check.ink_fraction, blobs=check.blobs))
            return
        # each drawing gets the next number ("рисунок 2"); more strokes on the same drawing keep its number
        mask = ink_mask(picture)
        number = st.session_state.get(DRAWING_NUMBER, 0)
        if not same_drawing(st.session_state.get(DRAWING_MASK), mask):
            number += 1
        st.session_state[DRAWING_MASK], st.session_state[DRAWING_NUMBER] = mask, number
        show_result(steps.final, f.t("draw.item_name", n=number), steps, getattr(result, "json_data", None))


def keep_drawing(ws: str, digit, strokes, cleaned, noise, seed: int, source: str = "drawn") -> int:
    """The drawing (28×28 and strokes) and its report row into the store; returns the report's drawing count."""
    store = workspace.store()
    n = len(store.report_items(ws, kind="drawn", with_result=False)) + 1
    name = f.t("draw.item_name", n=n)
    noise_record = asdict(noise) | {"seed": seed} if noise is not None else None
    image = store.add_image(ws, source=source, prepared=digit, name=name, strokes=strokes, noise=noise_record)
    settings, pictures = cleaned_to_record(cleaned, noise=noise_record, seed=seed)
    store.add_report_item(ws, kind="drawn", name=name, image_id=image.id, settings=settings, result=pictures)
    return n


if source == "test":
    digits = cache.test_digits()
    index = int(st.number_input(f.t("draw.test_index"), 0, len(digits) - 1, 0, key="keep_draw_index",
                                persist_state="session"))  # fmt: skip
    show_result(digits.images[index].numpy() / 255.0, f"MNIST #{index}")
else:
    canvas_part()
