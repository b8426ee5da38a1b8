"""The student's workspace in the app: its id in the page address, the store behind it, the link panel.

The workspace id lives in `st.query_params["w"]`, so a reload, a bookmark or the link on another device
returns to the same work. A new session with a known id reads everything back; a malformed or unknown id gets
a fresh workspace and a short message, never someone else's data. The id is re-put into the address on every
run, because a page switch may drop it.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from lib import checkpoint as ckpt_io
from lib.i18n import t
from lib.jobs import RUNNER, STALE_S, WorkspaceJobs
from lib.store import MODEL_PICKER_PREFIX, ModelInfo, Store, StoreError, model_picker_key, short_id
from lib.store.debounce import SettingsWriter
from lib.ui.keys import generation_key, renew

log = logging.getLogger(__name__)

PARAM = "w"  # the page address's query parameter that carries the workspace id
WS_KEY = "workspace_id"
SAVED_KEY = "workspace_saved"  # the keep_* values as last handed to the settings writer
TOUCHED_KEY = "workspace_touched"  # monotonic time of the last "last seen" write
NOTICE_KEY = "workspace_notice"  # a message to show once (bad link)
TOUCH_EVERY_S = 60.0
HOUSEKEEPING_S = 10.0  # interrupted trainings are noticed this often; expired workspaces swept every hour
SWEEP_EVERY_S = 3600.0
MAX_SETTING_CHARS = 20_000  # a remembered value bigger than this (an edited grid gone wild) is not kept
MODEL_PREFIX = MODEL_PICKER_PREFIX
QR_KEY = "workspace_qr"  # (url, PNG bytes) of this session's link
MODELS_KEY = "workspace_models"  # (read at, language, {picker key: LoadedModel}) of this session
MODELS_FRESH_S = 20.0  # a model another tab kept shows up within this; this session's own at once


def secrets_url() -> str | None:
    """The URL in `.streamlit/secrets.toml` under `[connections.workspace]` (Streamlit's convention), if any."""
    try:
        section = st.secrets.get("connections", {}).get("workspace", {})
        url = section.get("url") if hasattr(section, "get") else None
    except Exception:  # no secrets file, or one that does not parse: the environment or the default holds
        return None
    return str(url) if url else None


def _housekeeping(store: Store, writer: SettingsWriter) -> None:
    """Server thread: trainings cut off by a stopped server become 'interrupted'; unused workspaces expire."""
    last_sweep = 0.0
    while True:
        time.sleep(HOUSEKEEPING_S)
        try:
            store.mark_interrupted(STALE_S, keep_runner=RUNNER)
            if time.monotonic() - last_sweep >= SWEEP_EVERY_S:
                last_sweep = time.monotonic()
                store.delete_expired()
        except Exception:  # the database may be briefly unreachable: the next round tries again
            log.warning("workspace housekeeping failed", exc_info=True)


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """The server's one store (schema migrated on first use), with its housekeeping thread."""
    opened = Store.open(secrets_url())
    try:  # trainings of a server that stopped are interrupted: say so at once, not after STALE_S
        opened.mark_interrupted(STALE_S, keep_runner=RUNNER)
        opened.delete_expired()
    except Exception:
        log.warning("first housekeeping round failed", exc_info=True)
    threading.Thread(target=_housekeeping, args=(opened, settings_writer_for(opened)), name="workspace-housekeeping",
                     daemon=True).start()  # fmt: skip
    return opened


_WRITERS: dict[int, SettingsWriter] = {}
_WRITERS_LOCK = threading.Lock()


def settings_writer_for(opened: Store) -> SettingsWriter:
    """The debounced settings writer of a store (one per store, started once)."""
    with _WRITERS_LOCK:
        writer = _WRITERS.get(id(opened))
        if writer is None:
            writer = _WRITERS[id(opened)] = SettingsWriter(opened)
            writer.start()
        return writer


def settings_writer() -> SettingsWriter:
    """The server's debounced settings writer."""
    return settings_writer_for(store())


@st.cache_resource(show_spinner=False)
def workspace_jobs() -> WorkspaceJobs:
    """Server-wide: each workspace's live training and the sessions showing each workspace."""
    return WorkspaceJobs()


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        try:
            return len(json.dumps(value)) <= MAX_SETTING_CHARS
        except (TypeError, ValueError):
            return False
    return False


def _restore(store_: Store, workspace_id: str) -> None:
    """A new session of a known workspace: its remembered choices become this session's widget values."""
    settings_writer().flush_workspace(workspace_id)  # another tab's last moves first
    saved = store_.settings(workspace_id)
    for key, value in saved.items():
        if key.startswith("keep_") and key not in st.session_state:
            st.session_state[key] = tuple(value) if isinstance(value, list) and key.endswith("_range") else value
    st.session_state[SAVED_KEY] = dict(saved)


def _fresh(store_: Store) -> str:
    code = st.query_params.get("class", "") or ""  # the class code in the link the teacher handed out
    info = store_.create_workspace(class_code=code if re.fullmatch(r"[A-Za-z0-9_-]{1,40}", code) else "")
    st.session_state[SAVED_KEY] = {}
    st.session_state[TOUCHED_KEY] = time.monotonic()  # created just now: "last seen" is already now
    return info.id


def attach(lang: str) -> str | None:
    """This run's workspace id (created on a first visit), kept in the page address; None if the store is down."""
    try:
        store_ = store()
        wanted = st.query_params.get(PARAM)
        current = st.session_state.get(WS_KEY)
        if wanted and wanted != current:
            if store_.workspace(wanted) is not None:
                current = wanted
                _restore(store_, current)
            else:  # malformed, expired or mistyped: a fresh workspace, never anyone else's
                log.info("unknown workspace link %s: a new workspace", short_id(str(wanted)))
                current = _fresh(store_)
                st.session_state[NOTICE_KEY] = "store.link.unknown"
        elif not current:
            current = _fresh(store_)
        st.session_state[WS_KEY] = current
        if st.query_params.get(PARAM) != current:
            st.query_params[PARAM] = current
        now = time.monotonic()
        if now - st.session_state.get(TOUCHED_KEY, -TOUCH_EVERY_S) >= TOUCH_EVERY_S:
            st.session_state[TOUCHED_KEY] = now
            store_.touch(current)
        workspace_jobs().seen(current, _session_id())
        return current
    except Exception:
        log.exception("workspace store unavailable")
        st.error(t("store.unavailable", lang))
        return None


def remember_settings(workspace_id: str | None) -> None:
    """Hand this run's changed keep_* values to the debounced writer (a dict compare when nothing changed)."""
    if not workspace_id:
        return
    saved: dict[str, Any] = st.session_state.setdefault(SAVED_KEY, {})
    changed = {}
    for key, value in st.session_state.to_dict().items():  # one snapshot (listing the keys builds it twice)
        if isinstance(key, str) and key.startswith("keep_") and _jsonable(value):
            value = list(value) if isinstance(value, tuple) else value
            if saved.get(key) != value:
                changed[key] = value
    if changed:
        saved.update(changed)
        settings_writer().put(workspace_id, changed)


def show_notice(lang: str) -> None:
    """The once-only message about the link (an unknown link gave a fresh workspace)."""
    key = st.session_state.pop(NOTICE_KEY, None)
    slot = st.empty()  # always there: what follows keeps its place, so an open expander stays open on the next run
    if key:
        slot.warning(t(key, lang))


def page_url(workspace_id: str) -> str:
    """The app's address with this workspace's id (what the student bookmarks or scans)."""
    try:
        url = st.context.url or ""
    except Exception:
        url = ""
    if not url:
        return f"?{PARAM}={workspace_id}"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", f"{PARAM}={workspace_id}", ""))


def qr_png(text: str) -> bytes:
    """A QR code of the text as PNG bytes (black on white, a quiet zone around it)."""
    import segno

    buf = io.BytesIO()
    segno.make(text, error="m").save(
        buf, kind="png", scale=8, border=3
    )  # whole pixels per module: crisp at its own size
    return buf.getvalue()


def session_qr(url: str) -> bytes:
    """The link's QR code, made once per session (every rerun draws the panel: no cache lookups per run)."""
    made = st.session_state.get(QR_KEY)
    if made is None or made[0] != url:
        made = st.session_state[QR_KEY] = (url, qr_png(url))
    return made[1]


def _qr_dialog(url: str, lang: str) -> None:
    """The link's QR code, large enough to scan from across a desk."""
    st.image(session_qr(url), caption=t("store.link.qr", lang), output_format="PNG",  # no JPEG blur, own size
             alt=t("store.link.qr_alt", lang))  # fmt: skip
    st.code(url, language=None, wrap_lines=True)


LINK_PANEL_KEY = "ws_link_panel"


def link_panel(lang: str, workspace_id: str) -> None:
    """Sidebar: «your link» with copy and QR code, the optional name and group, and that the link is the key."""
    # drawn only while open (a rerun on opening): a closed panel costs every student's rerun nothing
    panel = st.sidebar.expander(t("store.link.header", lang), icon=":material/link:", key=LINK_PANEL_KEY,
                                on_change="rerun")  # fmt: skip
    if not panel.open:
        return
    with panel:
        url = page_url(workspace_id)
        st.caption(t("store.link.key", lang))
        st.code(url, language=None, wrap_lines=True)  # the copy button is in the block's corner
        # the QR code is drawn only when asked for: a picture in every rerun's sidebar costs every student CPU
        if st.button(t("store.link.qr_button", lang), key="ws_qr_open", icon=":material/qr_code_2:"):
            st.dialog(t("store.link.qr_title", lang))(_qr_dialog)(url, lang)
        profile_input(st, "sidebar", "name", t("store.profile.name", lang), workspace_id)
        profile_input(st, "sidebar", "group", t("store.profile.group", lang), workspace_id,
                      help=t("store.profile.help", lang))  # fmt: skip


# The student's name and group are typed in two places, the sidebar and the report panel. A change typed in one
# place is stored, then the other place's fields are drawn anew (lib/ui/keys.py) with it: set from code, their
# old values, sent back by the browser after a cut-short rerun, would overwrite the new name or group in the store.
PROFILE_KEY = "workspace_profile"  # (workspace id, name, group) as stored, read back once per session
PROFILE_PLACES = ("sidebar", "report")


def profile(workspace_id: str | None) -> tuple[str, str]:
    """The workspace's (name, group): read from the store once per session, then kept by the fields' callbacks."""
    kept = st.session_state.get(PROFILE_KEY)
    if kept is None or kept[0] != workspace_id:
        info = store().workspace(workspace_id) if workspace_id else None
        kept = st.session_state[PROFILE_KEY] = (workspace_id, *((info.display_name, info.group) if info else ("", "")))
    return kept[1], kept[2]


def profile_field_key(place: str, field: str) -> str:
    """The widget key of a name or group field in one place, with its current generation."""
    return generation_key(f"{place}_profile_{field}")


def _save_profile_field(workspace_id: str | None, place: str, field: str) -> None:
    """on_change: the one field typed in one place is stored; the other place's fields follow on this run."""
    value = str(st.session_state.get(profile_field_key(place, field), ""))[:80]
    if workspace_id:
        try:
            store().update_profile(workspace_id, **{"display_name" if field == "name" else "group": value})
        except StoreError:
            log.warning("profile of an unknown workspace not saved")
            return
    name, group = profile(workspace_id)
    st.session_state[PROFILE_KEY] = (workspace_id, value, group) if field == "name" else (workspace_id, name, value)
    for other in PROFILE_PLACES:
        if other != place:
            for other_field in ("name", "group"):
                renew(f"{other}_profile_{other_field}")


def profile_input(container: Any, place: str, field: str, label: str, workspace_id: str | None, **kwargs: Any) -> str:
    """A text field for the workspace's name or group in one place; its value now."""
    name, group = profile(workspace_id)
    value = container.text_input(label, value=name if field == "name" else group, key=profile_field_key(place, field),
                                 max_chars=80, on_change=_save_profile_field, args=(workspace_id, place, field),
                                 **kwargs)  # fmt: skip
    return str(value)


def model_key(model_id: int) -> str:
    """The picker key of a workspace model."""
    return model_picker_key(model_id)


def model_title(info: ModelInfo, lang: str) -> str:
    """A kept model's name in the page's language; a stopped one says how far it got ("Моя модель 3 · 1,38 эпохи")."""
    number = info.config.get("number") if isinstance(info.config, dict) else None
    name = t("common.sidebar.my_model", lang, n=number) if number else info.display_name
    if info.source == "partial":
        return t("store.model.partial", lang, name=name, epochs=info.epochs)
    return name


@st.cache_resource(show_spinner=False, max_entries=64)
def _built(workspace_id: str, model_id: int, size: int, device: Any) -> tuple[ckpt_io.Checkpoint, Any] | None:
    """A workspace model's checkpoint and network, built once per server (keyed by workspace and model)."""
    data = store().model_checkpoint(workspace_id, model_id)
    if data is None:
        return None
    ckpt = ckpt_io.load_bytes(data, f"model {model_id}")
    return ckpt, ckpt.build(device)


def refresh_models() -> None:
    """Read the workspace's model list again on the next run (after this session kept or deleted one)."""
    st.session_state.pop(MODELS_KEY, None)


def workspace_models(workspace_id: str | None, lang: str, device: Any) -> dict[str, Any]:
    """The workspace's kept models as picker entries (cache.LoadedModel), oldest first.

    The list is kept in the session for MODELS_FRESH_S seconds: a rerun (a slider move) reads no database.
    It is read again sooner when the picker is asked for a workspace model the list lacks (one just kept).
    """
    if not workspace_id:
        return {}
    held = st.session_state.get(MODELS_KEY)
    wanted = [st.session_state.get(k) for k in ("pending_model", "keep_model")]
    missing = (
        any(isinstance(k, str) and k.startswith(MODEL_PREFIX) and k not in held[2] for k in wanted) if held else True
    )
    if held is None or missing or held[1] != lang or time.monotonic() - held[0] > MODELS_FRESH_S:
        held = (time.monotonic(), lang, _read_models(workspace_id, lang, device))
        st.session_state[MODELS_KEY] = held
    return dict(held[2])


def _read_models(workspace_id: str, lang: str, device: Any) -> dict[str, Any]:
    from lib.ui.cache import LoadedModel

    out: dict[str, Any] = {}
    try:
        infos = store().models(workspace_id)
    except Exception:
        log.exception("could not list a workspace's models")
        return {}
    for info in infos:
        try:
            built = _built(workspace_id, info.id, info.size_bytes, device)
        except ckpt_io.CheckpointError:
            continue
        if built is not None:
            out[model_key(info.id)] = LoadedModel(model_key(info.id), built[0], built[1], model_title(info, lang))
    return out


@st.cache_data(show_spinner=False, max_entries=256)
def image_original(workspace_id: str, image_id: int) -> bytes:
    """A kept upload's bounded original (PNG), read once per server (kept images never change)."""
    return store().image_original(workspace_id, image_id) or b""


def _save_text(workspace_id: str, key: str, widget_key: str) -> None:
    try:
        store().set_text(workspace_id, key, st.session_state.get(widget_key, ""))
    except StoreError:
        log.warning("a text of an unknown workspace not saved")


def student_text(lang: str, workspace_id: str, key: str, height: int = 160) -> str:
    """A text area for the student's own words, kept in the workspace when it changes (and read back)."""
    widget_key = f"ws_text_{key}"
    if widget_key not in st.session_state:
        st.session_state[widget_key] = store().texts(workspace_id).get(key, "")
    return st.text_area(t(f"store.text.{key}", lang), key=widget_key, height=height, max_chars=20_000,
                        help=t(f"store.text.{key}_help", lang), on_change=_save_text,
                        args=(workspace_id, key, widget_key))  # fmt: skip
