"""Layout for every screen size: the app's CSS, the narrow-screen settings hint and the drawing canvas's fit.

Streamlit is laid out for a wide desktop. The rules below keep phones (390 px), tablets (820 / 1180 px),
1024×768 and projectors usable: words wrap only between words, rows of columns wrap instead of squeezing
their content, the explainer's tab bar wraps, and the page says where the settings are while the
sidebar is collapsed. The canvas helper measures the column the drawing canvas is in (the component
draws at a fixed pixel size) and keeps the canvas toolbar visible and clear of the text above it.
"""

from __future__ import annotations

import json

import streamlit as st

from lib.i18n import t

HINT_KEY = "mobile_settings_hint"
CANVAS_BOX = "canvas_box"  # st.container keys starting with this reserve room for the canvas toolbar
AUTO_COLLAPSE_BELOW = 1000  # px: tablets in portrait start with the sidebar collapsed (Streamlit: ≤ 768)

# Contrast (WCAG 2.1 AA, tests/test_a11y.py checks the ratios against the theme in .streamlit/config.toml):
# Streamlit fades captions, image captions and help text to 60 % of the text colour (3.9:1 on white);
# these colours keep small grey text at ≥ 4.5:1 on the page, the sidebar and the info boxes, and the
# keyboard focus ring at ≥ 3:1 against everything it is drawn on.
MUTED_TEXT = "#5c5a56"
FOCUS_RING = "#1a56c4"

CSS = """
<style>
/* Words wrap at spaces only: Streamlit's markdown uses word-break: break-word, which lets a narrow
   column cut "grayscale" into "graysca le". overflow-wrap stays as the last resort for a single word
   wider than its whole box (the layout test fails on such breaks). */
[data-testid="stMain"] :is(p, li, h1, h2, h3, h4, h5, figcaption, [data-testid="stMarkdownContainer"],
  [data-testid="stCaptionContainer"], [data-testid="stImageCaption"]) {
  word-break: normal;
  overflow-wrap: break-word;
  hyphens: manual;
}
/* Metric, toggle and button labels wrap instead of ending in "…". */
.stMarkdownEllipsis, .stMarkdownEllipsis :is(div, p, span), [data-testid="stMetricLabel"] :is(div, p) {
  white-space: normal !important;
  overflow: visible !important;
  text-overflow: clip !important;
}
/* Rows of columns wrap rather than squeeze: a column is never narrower than about ten characters,
   one holding a chart never narrower than a readable chart. Streamlit stacks them below 640 px. */
[data-testid="stMain"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
@media (min-width: 640px) {
  [data-testid="stMain"] [data-testid="stColumn"] { min-width: min(100%, 9.5rem); }
  [data-testid="stMain"] [data-testid="stColumn"]:has([data-testid="stPlotlyChart"]) { min-width: min(100%, 15rem); }
}
/* Medium screens (1024×768 with the sidebar, tablets): less side padding, more room for content. */
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
}
/* Four metrics in a row become two rows of two (not three and one) when the page is narrow. */
[data-testid="stMainBlockContainer"] { container-type: inline-size; container-name: page; }
@container page (max-width: 44rem) {
  [data-testid="stColumn"]:has([data-testid="stMetric"]) { min-width: calc(50% - 1rem); }
}
/* Pictures never exceed their box. */
[data-testid="stMain"] [data-testid="stImage"] img { max-width: 100%; height: auto; }
/* The tab bar wraps onto a second line, so every tab (and the active one) stays in view. */
[data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; overflow-x: visible; row-gap: 0.25rem; }
[data-testid="stTabs"] [role="tablist"] > [data-testid="stTab"] { flex-shrink: 0; }
/* Image tiles (original / noisy / cleaned …): titles get three lines so the pictures line up. */
[class*="st-key-tiles_"] [data-testid="stMarkdownContainer"] p { font-size: 0.875rem; line-height: 1.3; min-height: 3.9em; }
/* Grey text stays readable (captions on a projector too): at least 4.5:1 against the page and the sidebar. */
:is([data-testid="stCaptionContainer"], [data-testid="stImageCaption"], [data-testid="stWidgetLabel"] small,
  [data-testid="stTickBarMin"], [data-testid="stTickBarMax"], [data-testid="stMetricDelta"] ~ div,
  [data-testid="stFileUploaderDropzoneInstructions"] small) {
  color: %(muted)s !important;
  opacity: 1 !important;  /* Streamlit fades captions with opacity 0.6, which no text colour makes up for */
}
/* A keyboard focus is always visible: a solid ring on whatever has the focus. */
:is(a, button, summary, input, textarea, select, [role="slider"], [role="tab"], [role="radio"], [role="switch"],
  [role="checkbox"], [role="combobox"], [role="button"], [tabindex]):focus-visible {
  outline: 3px solid %(focus)s !important;
  outline-offset: 2px;
}
/* Radios, checkboxes, toggles and sliders draw their own picture over a hidden input: the ring goes round the
   option's label or the whole slider instead. */
label:has(input:is([type="radio"], [type="checkbox"]):focus-visible),
[data-testid="stSlider"]:has(input:focus-visible) {
  outline: 3px solid %(focus)s;
  outline-offset: 2px;
  border-radius: 0.25rem;
}
/* The drawing canvas's toolbar sits above the canvas: keep that room free of the text above. */
[class*="st-key-canvas_box"] { padding-top: 2.9rem; }
@media (pointer: coarse) { [class*="st-key-canvas_box"] { padding-top: 4rem; } }
/* The canvas helper only measures; it takes no room. */
[class*="st-key-canvas_fit"] { display: none; }
/* The settings hint shows only while the sidebar is collapsed (phones, tablets in portrait). */
.st-key-mobile_settings_hint { display: none; }
.st-key-mobile_settings_hint [data-testid="stElementContainer"]:has(style, script) { display: none; }
body:has([data-testid="stSidebar"][data-collapsed="true"]) .st-key-mobile_settings_hint { display: flex; }
@media (max-width: 640px) {
  /* Formulas: a smaller font on phones; a formula wider still scrolls inside its own box. */
  [data-testid="stMain"] .katex-display > .katex { font-size: 0.95em; }
  [data-testid="stMain"] h1 { font-size: 2.1rem; }
  [data-testid="stMain"] h2 { font-size: 1.6rem; }
}
</style>
""".replace("%(muted)s", MUTED_TEXT).replace("%(focus)s", FOCUS_RING)

# Runs once per page view: the page's language for the browser (screen readers, hyphenation) and, on a
# tablet in portrait, the sidebar collapsed unless the student has opened or closed it before (Streamlit
# collapses it by itself only up to 768 px, and then remembers the state).
SCRIPT = """
<script>
(() => {
  document.documentElement.lang = %(lang)s;
  const width = window.innerWidth;
  // Streamlit remembers a sidebar opened or closed by hand (localStorage): that choice wins
  const chosen = Object.keys(localStorage).some((k) => k.startsWith("stSidebarCollapsed"));
  if (width <= 768 || width >= %(below)d || chosen) return;
  const collapse = (tries) => {
    const sidebar = document.querySelector('[data-testid="stSidebar"]');
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (sidebar && button && sidebar.getAttribute("data-collapsed") === "false") button.click();
    else if (tries > 0) setTimeout(() => collapse(tries - 1), 200);
  };
  collapse(60);  // up to 12 s: a busy server draws the sidebar late on a first visit
})();
</script>
"""


def inject_style(lang: str) -> None:
    """The app's CSS, the narrow-screen settings hint and the page-view script; call once per run, under the title."""
    with st.container(key=HINT_KEY):
        # the style is drawn ahead of the hint it hides, by st.markdown, which renders at once: st.html is
        # loaded on demand (a style-only one goes to the event container) and could show the hint first
        st.markdown(CSS, unsafe_allow_html=True)
        st.html(SCRIPT % {"lang": json.dumps(lang), "below": AUTO_COLLAPSE_BELOW}, unsafe_allow_javascript=True)
        st.info(t("common.settings_hint", lang), icon=":material/tune:")


# The canvas helper: reports the width of the column it is drawn in once it has settled (again when it
# changes by 8 px or more, e.g. a tablet turned), and keeps the drawable-canvas toolbar in that column
# visible above the canvas with finger-sized buttons and translated tooltips. The toolbar lives in the
# component's shadow root, which page CSS cannot reach, hence the style element put there.
CANVAS_JS = """
export default function (component) {
  const { parentElement, setStateValue, data } = component;
  const host = parentElement instanceof ShadowRoot ? parentElement.host : parentElement;
  const column = host.closest('[data-testid="stVerticalBlock"]');
  if (!column) return;
  let last = null;
  let settle = null;
  const send = () => {
    const width = Math.floor(column.getBoundingClientRect().width);
    if (width > 0 && (last === null || Math.abs(width - last) >= 8)) {
      last = width;
      setStateValue("width", width);
    }
  };
  // wait until the width has settled (the sidebar slides in or out over a few frames)
  const report = () => {
    clearTimeout(settle);
    settle = setTimeout(send, 250);
  };
  const toolbarCss = `
    .dc-toolbar { opacity: 1 !important; top: -2.75rem !important; }
    @media (pointer: coarse) {
      .dc-toolbar { top: -4rem !important; }
      .dc-icon-button { padding: 0.5rem; }
      .dc-icon-button svg { width: 1.25rem; height: 1.25rem; }
    }`;
  const pin = () => {
    for (const el of column.querySelectorAll("*")) {
      const root = el.shadowRoot;
      if (!root || !root.querySelector(".dc-root")) continue;
      if (!root.querySelector("style[data-canvas-fit]")) {
        const style = document.createElement("style");
        style.setAttribute("data-canvas-fit", "");
        style.textContent = toolbarCss;
        root.appendChild(style);
      }
      for (const button of root.querySelectorAll(".dc-icon-button")) {
        const english = button.getAttribute("data-title-en") || button.getAttribute("aria-label");
        const shown = (data && data.titles && data.titles[english]) || english;
        button.setAttribute("data-title-en", english);
        if (button.title !== shown) {
          button.title = shown;
          button.setAttribute("aria-label", shown);
        }
      }
    }
  };
  const observer = new ResizeObserver(report);
  observer.observe(column);
  report();
  pin();
  const timer = setInterval(pin, 500);
  return () => {
    observer.disconnect();
    clearInterval(timer);
    clearTimeout(settle);
  };
}
"""

_canvas_helper = st.components.v2.component("cnn_canvas_fit", js=CANVAS_JS, isolate_styles=False)

# The canvas component's English button names (its aria-labels) → locale keys.
CANVAS_BUTTONS = {
    "Update the app with this drawing": "draw.canvas_send",
    "Undo": "draw.canvas_undo",
    "Redo": "draw.canvas_redo",
    "Edit": "draw.canvas_edit",
    "Bring forward": "draw.canvas_forward",
    "Send backward": "draw.canvas_backward",
    "Delete selected": "draw.canvas_delete",
    "Reset canvas & history": "draw.canvas_reset",
}


def column_width(key: str, lang: str) -> int | None:
    """Width in CSS pixels of the column this is called in (None until the browser has measured it).

    key: starts with "canvas_fit" (the helper element is hidden by that name).
    """
    titles = {english: t(k, lang) for english, k in CANVAS_BUTTONS.items()}
    result = _canvas_helper(key=key, data={"titles": titles}, default={"width": None}, on_width_change=lambda: None)
    width = result.get("width") if hasattr(result, "get") else getattr(result, "width", None)
    return int(width) if isinstance(width, (int, float)) and width > 0 else None


def canvas_side(width: int | None, default: int = 280, largest: int = 420) -> int:
    """Side of the square canvas for a column width: fills the column up to `largest`, a multiple of 4."""
    if width is None:
        return default
    return max(4, min(largest, int(width)) // 4 * 4)
