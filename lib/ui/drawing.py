"""The Draw page's canvas outlives the tab: its strokes are kept in the workspace and drawn again next time."""

from __future__ import annotations

import logging

import streamlit as st
from PIL import Image

from lib.canvas import drawing_for_canvas, picture_from_record, strokes_record
from lib.ui import workspace
from lib.ui.keys import generation_key, renew

log = logging.getLogger(__name__)

CANVAS_SETTING = "draw_canvas"  # the workspace setting that holds the canvas's strokes ({"side", "objects"})
KEPT = "draw_canvas_kept"  # the strokes last written (or read) by this session
START = "draw_canvas_start"  # (side, initial drawing) handed to the canvas: the same value on every rerun
CANVAS = "draw_canvas"  # the canvas key's name: "Clear the canvas" renews it, an empty canvas


def kept_strokes(workspace_id: str | None) -> dict | None:
    """The workspace's kept canvas strokes, read once per session."""
    if KEPT not in st.session_state:
        record = None
        if workspace_id:
            try:
                record = workspace.store().settings(workspace_id).get(CANVAS_SETTING)
            except Exception:  # the canvas then starts empty; the page itself still works
                log.exception("could not read the kept canvas")
        st.session_state[KEPT] = record
    return st.session_state[KEPT]


def initial_drawing(workspace_id: str | None, side: int) -> dict | None:
    """What the canvas starts with: the kept strokes, scaled to this canvas. It changes only with the canvas's
    size, since a new initial drawing redraws the canvas (and would wipe strokes added since)."""
    held = st.session_state.get(START)
    if held is None or held[0] != side:
        held = (side, drawing_for_canvas(kept_strokes(workspace_id), side))
        st.session_state[START] = held
    return held[1]


def canvas_key() -> str:
    """The canvas component's key: a new one after "Clear the canvas" (the component then starts empty)."""
    return generation_key(CANVAS)


def shows_kept(side: int) -> bool:
    """Whether the canvas started from the kept strokes (its bin returns to them rather than to empty)."""
    held = st.session_state.get(START)
    return held is not None and held[0] == side and held[1] is not None


def clear(workspace_id: str | None, side: int) -> None:
    """ "Clear the canvas" callback: an empty canvas now and next time the page opens."""
    renew(CANVAS)
    st.session_state[START] = (side, None)
    if workspace_id:
        try:
            workspace.store().set_settings(workspace_id, {CANVAS_SETTING: {"side": side, "objects": []}})
        except Exception:  # the canvas is empty now; the kept strokes come back only with a reload
            log.exception("could not clear the kept canvas")
            return
    st.session_state[KEPT] = {"side": side, "objects": []}


def restored_picture(workspace_id: str | None) -> Image.Image | None:
    """The kept drawing's ink picture while the canvas shows the kept strokes and has sent nothing yet."""
    held = st.session_state.get(START)
    if held is None or held[1] is None:
        return None
    return picture_from_record(kept_strokes(workspace_id))


def keep_strokes(workspace_id: str | None, json_data: dict | None, side: int, picture: Image.Image | None) -> None:
    """Write the canvas's strokes and their picture to the workspace when they changed (a stroke, undo, the bin)."""
    record = strokes_record(json_data, side, picture)
    if not workspace_id or record is None:
        return
    kept = kept_strokes(workspace_id)
    if kept is not None and kept.get("objects") == record["objects"]:
        return
    if kept is None and not record["objects"]:
        return
    try:
        workspace.store().set_settings(workspace_id, {CANVAS_SETTING: record})
    except Exception:  # the drawing stays on the canvas; the next stroke tries again
        log.exception("could not keep the canvas")
        return
    st.session_state[KEPT] = record
