"""The frame every page shares: language, model picker and device in the sidebar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from lib import checkpoint as ckpt_io
from lib.device import describe_device
from lib.i18n import LANGUAGES, t
from lib.noise import PRESETS
from lib.ui import cache
from lib.ui.lang import LANG_KEY, current_language

MODEL_KEY = "keep_model"
SESSION_MODELS = "session_models"  # dict[str, LoadedModel] of this session only
PENDING_MODEL = "pending_model"  # a model to select before the picker is drawn next time


@dataclass(frozen=True)
class Frame:
    """What a page needs from the sidebar."""

    lang: str
    model: cache.LoadedModel | None
    models: dict[str, cache.LoadedModel]

    def t(self, key: str, **params: object) -> str:
        """Translate into the page's language."""
        return t(key, self.lang, **params)


def keep_widget_values(own: tuple[str, ...]) -> None:
    """Re-assign 'keep_' keys so values survive page switches (each page's sidebar widgets are new widgets).

    The current page's own keys are left alone: their widgets are drawn in this run anyway.
    """
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith("keep_") and (not own or not key.startswith(own)):
            st.session_state[key] = st.session_state[key]


def preset_name(noise) -> str | None:
    """'A' or 'B' when the Gaussian parameters match a textbook group."""
    for name, cfg in PRESETS.items():
        if (cfg.mean, cfg.var) == (noise.mean, noise.var):
            return name
    return None


def model_label(loaded: cache.LoadedModel, lang: str) -> str:
    """Human name: architecture, training noise group and file/session name."""
    arch = t(f"model.{loaded.checkpoint.model_config.name}", lang)
    group = preset_name(loaded.checkpoint.noise)
    noise = t(f"group.{group}", lang) if group else t("group.custom", lang)
    source, name = loaded.key.split(":", 1)
    suffix = name if source == "shipped" else t("sidebar.session_model", lang, name=name)
    return f"{arch} · {noise} ({suffix})"


def available_models(lang: str) -> dict[str, cache.LoadedModel]:
    """Shipped models (cached for all) followed by this session's trained ones."""
    models: dict[str, cache.LoadedModel] = {}
    for path in cache.shipped_weights():
        try:
            loaded = cache.shipped_model(str(path), path.stat().st_mtime)
        except ckpt_io.CheckpointError as exc:
            st.sidebar.warning(t("sidebar.bad_weights", lang, error=str(exc)))
            continue
        models[loaded.key] = loaded
    models.update(st.session_state.get(SESSION_MODELS, {}))
    return models


def default_model_key(models: dict[str, cache.LoadedModel]) -> str | None:
    """The textbook's Appendix 1 model (seed, Group B) when shipped."""
    for key in ("shipped:seed_B", *models):
        if key in models:
            return key
    return None


def frame(page_title_key: str, own_keys: tuple[str, ...] = ()) -> Frame:
    """Draw the sidebar and return the page's language and model; own_keys: this page's widget-key prefixes."""
    keep_widget_values(own_keys)
    lang = current_language()
    st.session_state.setdefault(LANG_KEY, lang)
    with st.sidebar:
        lang = st.selectbox(
            t("sidebar.language", lang),
            LANGUAGES,
            key=LANG_KEY,
            format_func=lambda code: {"ru": "Русский", "en": "English"}[code],
        )
        models = available_models(lang)
        if models:
            pending = st.session_state.pop(PENDING_MODEL, None)  # chosen by a page in the previous run
            if pending in models:
                st.session_state[MODEL_KEY] = pending
            if st.session_state.get(MODEL_KEY) not in models:
                st.session_state[MODEL_KEY] = default_model_key(models)
            key = st.selectbox(
                t("sidebar.model", lang),
                list(models),
                key=MODEL_KEY,
                format_func=lambda k: model_label(models[k], lang),
                help=t("sidebar.model_help", lang),
            )
            model = models[key]
        else:
            st.error(t("sidebar.no_models", lang))
            model = None
        st.caption(t("sidebar.device", lang, device=describe_device(cache.device())))
    st.title(t(page_title_key, lang))
    return Frame(lang, model, models)


def add_session_model(loaded: cache.LoadedModel, select: bool = False) -> None:
    """Put a model trained or loaded in this session into this session's picker (selected on the next run)."""
    models = dict(st.session_state.get(SESSION_MODELS, {}))
    models[loaded.key] = loaded
    st.session_state[SESSION_MODELS] = models
    if select:
        st.session_state[PENDING_MODEL] = loaded.key


def on_click_set(values: dict[str, object]) -> Callable[[], None]:
    """A button callback that writes widget values before the next run."""

    def apply() -> None:
        for key, value in values.items():
            st.session_state[key] = value

    return apply
