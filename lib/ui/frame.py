"""The frame every page shares: language, model picker and device in the sidebar.

Widget values that survive page switches and language switches — the rule every page follows:

* A widget whose value should be kept has a key starting with `keep_` (`keep_<page>_<name>`) and
  `persist_state="session"`. Streamlit then keeps the value while the page is not shown and, when the
  widget is drawn again, sends that value to the browser, so what the widget shows is what the page
  computes with. (Re-assigning `st.session_state[k] = st.session_state[k]` on other pages, as older
  Streamlit needed, is not enough: Streamlit only pushes a value to the browser in the run that assigns
  it, so a returning widget showed its element default — slider minimum, first option — while the page
  used the kept value.) tests/test_state.py checks every `keep_` widget in app_pages/ and lib/ui/.
* The sidebar's language and model pickers are drawn on every page under one key, but each page has its own
  widget. They do not persist; `frame()` re-assigns both values before drawing them in every run, so the
  page's picker always shows the current choice, even one made on another page (a trained model selected on
  the Train page, a language chosen on Compare). A persisted copy would bring back its page's old choice.
  The chosen model itself lives in a plain session-state entry (`CHOSEN_MODEL`, not a widget key): Streamlit
  deletes a widget's value when a run ends without that widget (it did after the Draw page's fragment runs),
  and the picker then fell back to the default model on the next page. The picker's callback copies a
  choice into the plain entry, and every run draws the picker from it.
* Initial values come either from the widget's own `value=`/`index=` or from
  `st.session_state.setdefault(key, ...)` before the widget, never both.
* Radios, selectboxes and segmented controls whose option labels are translated (format_func) must have a
  `keep_` key: Streamlit stores their value as the shown label, so after a language switch the old label
  matches no option. The language picker's callback re-assigns every `keep_` value before the rerun
  (decoded with the old labels), which makes Streamlit send each value again with the new labels.
* Values that are not widgets (counters, edited matrices) are plain session-state entries; they persist
  by themselves. An `st.data_editor` cannot persist its edits, so the explainer keeps the edited grid in
  `keep_<editor key>` and passes it as the editor's data on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from lib import checkpoint as ckpt_io
from lib.device import describe_device
from lib.i18n import LANGUAGES, format_number, t, table
from lib.noise import PRESETS
from lib.safe_names import markdown_text
from lib.store import PICKED_MODEL_SETTING
from lib.ui import cache, workspace
from lib.ui.lang import LANG_KEY, NAV_LANG_KEY, current_language
from lib.ui.style import inject_style
from lib.ui.warm import preload_components

KEEP_PREFIX = "keep_"
MODEL_KEY = PICKED_MODEL_SETTING  # "keep_model": remembered in the workspace like every keep_ value
SESSION_MODELS = "session_models"  # dict[str, LoadedModel] of this session only
CHOSEN_MODEL = "chosen_model"  # the model in use: a plain entry Streamlit never deletes (not a widget key)
PENDING_MODEL = "pending_model"  # a model to select before the picker is drawn next time
PROJECTOR_KEY = "projector"  # the projector setting (a plain entry): larger pictures, numbers and captions
PROJECTOR_WIDGET = "projector_toggle"  # the sidebar toggle that shows and changes it
PROJECTOR_SCALE = 1.35
# Captions and small text larger and darker: Streamlit's grey 14 px captions cannot be read from the back
PROJECTOR_CSS = """<style>
[data-testid="stMain"] [data-testid="stCaptionContainer"], [data-testid="stMain"] [data-testid="stImageCaption"],
[data-testid="stMain"] figcaption { font-size: 1.05rem !important; color: rgba(20, 20, 30, 0.92) !important; }
[data-testid="stMain"] :is(p, li):not([data-testid="stMetricValue"] *, [data-testid="stMetricDelta"] *) {
  font-size: 1.1rem; }
</style>"""
SHARED_KEYS = (LANG_KEY, MODEL_KEY)  # sidebar widgets drawn on every page (one widget per page, one key)


@dataclass(frozen=True)
class Frame:
    """What a page needs from the sidebar."""

    lang: str
    model: cache.LoadedModel | None
    models: dict[str, cache.LoadedModel]
    workspace_id: str | None = None  # the student's workspace (None only when the store is unreachable)
    names: dict[str, str] = field(default_factory=dict)  # model key → its one display name (the picker's)
    scale: float = 1.0  # pictures and numbers: 1 on a laptop, larger with the projector setting

    def t(self, key: str, **params: object) -> str:
        """Translate into the page's language."""
        return t(key, self.lang, **params)

    def name(self, key: str) -> str:
        """The display name of a model: the picker's label, also used in column headers, messages and files."""
        return self.names.get(key) or key.split(":", 1)[-1]

    def num(self, value: float, spec: str = "") -> str:
        """A number written the page language's way ("26,48" in Russian) by a Python format spec."""
        return format_number(value, self.lang, spec)


def resend_kept_values() -> None:
    """Language-switch callback: re-assign every kept value so Streamlit re-sends it with the new labels."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(KEEP_PREFIX):
            st.session_state[key] = st.session_state[key]


def push_shared_values() -> None:
    """Re-assign the language and model so every page's copy of these sidebar widgets shows the current choice."""
    for key in SHARED_KEYS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def remember_model_choice() -> None:
    """Model picker callback: keep the choice in the plain entry that outlives the widget."""
    st.session_state[CHOSEN_MODEL] = st.session_state.get(MODEL_KEY)


def remember_projector() -> None:
    """Projector toggle callback: keep the setting in the plain entry that outlives the widget."""
    st.session_state[PROJECTOR_KEY] = bool(st.session_state.get(PROJECTOR_WIDGET))


def preset_name(noise) -> str | None:
    """'A' or 'B' when the Gaussian parameters match a textbook group."""
    for name, cfg in PRESETS.items():
        if (cfg.mean, cfg.var) == (noise.mean, noise.var):
            return name
    return None


def _noise_group(loaded: cache.LoadedModel) -> str:
    return preset_name(loaded.checkpoint.noise) or "custom"


def model_label(loaded: cache.LoadedModel, lang: str) -> str:
    """Full description: architecture, training noise group and file/session name (the picker's help)."""
    arch = t(f"model.{loaded.checkpoint.model_config.name}", lang)
    noise = t(f"noise.group.{_noise_group(loaded)}", lang)
    # a session model may be named after an uploaded file: shown as text, never as Markdown (the help renders it)
    shipped = loaded.source == "shipped"
    suffix = loaded.label if shipped else t("common.sidebar.session_model", lang, name=markdown_text(loaded.label))
    return f"{arch} · {noise} ({suffix})"


def short_model_labels(models: dict[str, cache.LoadedModel], lang: str) -> dict[str, str]:
    """Short, distinct picker labels: "Табл. 1 · Б" for shipped models, "Моя модель 2" for this session's."""
    labels: dict[str, str] = {}
    mine = 0
    for key, loaded in models.items():
        if loaded.source == "shipped":
            arch = loaded.checkpoint.model_config.name
            short_key = f"model.short.{arch}"
            name = t(short_key, lang) if short_key in table(lang) else t(f"model.{arch}", lang)
            label = f"{name} · {t(f'noise.group.short.{_noise_group(loaded)}', lang)}"
            if loaded.checkpoint.train.get("augment"):  # trained on varied digits as well
                label += f" · {t('common.sidebar.augmented', lang)}"
        else:
            mine += 1
            label = loaded.name or t("common.sidebar.my_model", lang, n=mine)
        same = sum(1 for other in labels.values() if other == label or other.startswith(f"{label} #"))
        labels[key] = f"{label} #{same + 1}" if same else label  # two shipped files alike: numbered
    return labels


def available_models(lang: str, workspace_id: str | None = None) -> dict[str, cache.LoadedModel]:
    """Shipped models (cached for all), then the workspace's kept ones, then this session's unsaved ones."""
    models: dict[str, cache.LoadedModel] = {}
    for path in cache.shipped_weights():
        try:
            loaded = cache.shipped_model(str(path), path.stat().st_mtime)
        except ckpt_io.CheckpointError as exc:
            st.sidebar.warning(t("common.sidebar.bad_weights", lang, error=exc.text(lang, markdown_text)))
            continue
        models[loaded.key] = loaded
    models.update(workspace.workspace_models(workspace_id, lang, cache.device()))
    models.update(st.session_state.get(SESSION_MODELS, {}))
    return models


def default_model_key(models: dict[str, cache.LoadedModel]) -> str | None:
    """The textbook's Appendix 1 model (Table 1, Group B) when shipped."""
    for key in ("shipped:table1_B", *models):
        if key in models:
            return key
    return None


def frame(page_title_key: str, attach: bool = True) -> Frame:
    """Draw the sidebar and return the page's language and model; `attach=False`: no student workspace (teacher)."""
    lang = current_language()
    # before the widgets: a known workspace's choices become their values
    workspace_id = workspace.attach(lang) if attach else None
    if current_language() != st.session_state.get(NAV_LANG_KEY, lang):  # a valid language only: no rerun loop
        # the link's workspace speaks another language than the browser: the navigation, drawn before the
        # workspace was known, is drawn again in it (the rerun finds the language already chosen)
        st.rerun()
    st.session_state.setdefault(LANG_KEY, lang)
    push_shared_values()
    with st.sidebar:
        lang = st.selectbox(
            t("common.sidebar.language", lang),
            LANGUAGES,
            key=LANG_KEY,
            format_func=lambda code: {"ru": "Русский", "en": "English"}[code],
            on_change=resend_kept_values,
            placeholder=t("common.choose", lang),
        )
        models = available_models(lang, workspace_id)
        if models:
            pending = st.session_state.pop(PENDING_MODEL, None)  # chosen by a page in the previous run
            if pending in models:
                st.session_state[CHOSEN_MODEL] = pending
            if st.session_state.get(CHOSEN_MODEL) not in models:  # a new session: a restored choice, else the default
                restored = st.session_state.get(MODEL_KEY)
                st.session_state[CHOSEN_MODEL] = restored if restored in models else default_model_key(models)
            st.session_state[MODEL_KEY] = st.session_state[CHOSEN_MODEL]  # the picker shows the kept choice
            labels = short_model_labels(models, lang)
            details = "\n".join(f"- **{labels[k]}** — {model_label(m, lang)}" for k, m in models.items())
            key = st.selectbox(
                t("common.sidebar.model", lang),
                list(models),
                key=MODEL_KEY,
                format_func=labels.__getitem__,
                on_change=remember_model_choice,
                help=f"{t('common.sidebar.model_help', lang)}\n\n{details}",
                placeholder=t("common.choose", lang),
            )
            model = models[key]
        else:
            labels = {}
            st.error(t("common.sidebar.no_models", lang))
            model = None
        st.caption(t("common.sidebar.device", lang, device=describe_device(cache.device(), lang)))
        # like the model: a plain entry keeps the setting, each page's toggle is drawn from it
        st.session_state[PROJECTOR_WIDGET] = bool(st.session_state.get(PROJECTOR_KEY, False))
        projector = st.toggle(t("common.sidebar.projector", lang), key=PROJECTOR_WIDGET, on_change=remember_projector,
                              help=t("common.sidebar.projector_help", lang))  # fmt: skip
    if workspace_id:
        workspace.link_panel(lang, workspace_id)
        workspace.remember_settings(workspace_id)  # debounced: at most one write per few seconds
    st.title(t(page_title_key, lang))
    workspace.show_notice(lang)
    inject_style(lang)  # layout for phones, tablets and projectors; the settings hint on narrow screens
    # always there, like the notice's and the preload's slots: the page's elements keep their places
    projector_slot = st.empty()
    if projector:
        projector_slot.markdown(PROJECTOR_CSS, unsafe_allow_html=True)
    preload_components()  # a session's first run: chart, table and formula code load in the background
    return Frame(lang, model, models, workspace_id, labels, PROJECTOR_SCALE if projector else 1.0)


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
