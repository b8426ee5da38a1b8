"""Your images: upload photos or scans of digits, see every preprocessing step, clean them, hand in a report."""

import logging

import streamlit as st

from lib.lab import clean_digit
from lib.limits import UPLOAD_LIMIT_MB
from lib.preprocess import IMAGE_TYPES, MAX_PIXELS, PreprocessError, open_image, to_mnist_steps
from lib.report import ReportItem, has_noisy_column, report_parameters, report_zip, sheet_png
from lib.report.build import noise_of_record
from lib.report.content import AppliedNoise
from lib.report.layout import noise_text
from lib.safe_names import clean_name, markdown_text
from lib.store import StoreError
from lib.store.blobs import ORIGINAL_MAX_SIDE, bounded_png
from lib.store.items import record_to_cleaned
from lib.ui import cache, workspace
from lib.ui.frame import frame
from lib.ui.handin import render_report_panel
from lib.ui.section5 import remember_digit
from lib.ui.uploads import file_uploader
from lib.ui.widgets import comparison_models, noise_controls, number_slider, render_cleaned, render_steps

f = frame("upload.page")
st.caption(f.t("upload.intro", mb=UPLOAD_LIMIT_MB, mp=MAX_PIXELS // 10**6))
with st.sidebar:
    st.subheader(f.t("upload.preprocessing"))
    invert = st.radio(f.t("upload.invert"), ["auto", "yes", "no"], horizontal=True, key="keep_up_invert", persist_state="session",
                      format_func=lambda v: f.t(f"upload.invert.{v}"))  # fmt: skip
    threshold = number_slider(f.t("upload.threshold"), ((0.0, 0.9, 0.05),), "keep_up_threshold", f.lang,
                              help=f.t("upload.threshold_help"))  # fmt: skip
    contrast = number_slider(f.t("upload.contrast"), ((1.0, 3.0, 0.1),), "keep_up_contrast", f.lang)
    mode = st.radio(f.t("upload.mode"), ["as_is", "add_noise"], key="keep_up_mode", persist_state="session",
                    format_func=lambda v: f.t(f"upload.mode.{v}"))  # fmt: skip
    noise = noise_controls(f, "up", kinds=("gaussian", "speckle")) if mode == "add_noise" else None
    seed = st.number_input(f.t("lab.seed"), 0, 2**31 - 1, 0, key="keep_up_seed", persist_state="session")

files = file_uploader(f.t("upload.files"), "upload_files", f.lang, IMAGE_TYPES, multiple=True)
models = comparison_models(f)
ws = f.workspace_id
preprocessing = {"invert": invert, "threshold": threshold, "contrast": contrast}


def failed(name: str, exc: Exception) -> None:
    """One file's problem in the student's language; the other files go on."""
    if isinstance(exc, PreprocessError):
        st.error(f.t("upload.failed", name=markdown_text(name), reason=f.t(f"upload.error.{exc.code}", **exc.params)))
    else:  # an unforeseen decoder problem in one file must not stop the others
        logging.getLogger(__name__).error("could not process an upload (%s)", type(exc).__name__)
        st.error(f.t("upload.failed", name=markdown_text(name), reason=f.t("upload.error.unexpected")))


def keep_uploads(ws: str) -> None:
    """New files go into the workspace (a bounded original and the prepared 28×28) before they are shown."""
    kept: set[str] = st.session_state.setdefault("upload_kept", set())
    for upload in files or []:
        if upload.file_id in kept:
            continue
        name = clean_name(upload.name)  # no control or bidi characters; kept as data
        try:
            original = bounded_png(open_image(upload.getvalue()))
            steps = to_mnist_steps(open_image(original), invert=invert, threshold=threshold, contrast=contrast)
            workspace.store().add_image(ws, source="photo", prepared=steps.final, name=name,
                                        original=original, preprocessing=preprocessing)  # fmt: skip
        except StoreError as exc:  # full: the message says what to do; nothing kept is lost
            st.error(f.t("store.upload.too_many", name=markdown_text(name), reason=exc.text(f.lang)))
        except Exception as exc:  # not kept: tried again with the next settings (invert, threshold)
            failed(name, exc)
            continue
        kept.add(upload.file_id)


def remove_image(ws: str, image_id: int) -> None:
    workspace.store().delete_image(ws, image_id)


# (name, image bytes, stored image id): the workspace's kept pictures, or this session's files without a store
entries: list[tuple[str, bytes, int | None]]
if ws:
    keep_uploads(ws)
    entries = [(info.name, workspace.image_original(ws, info.id), info.id)
               for info in workspace.store().images(ws, source="photo")]  # fmt: skip
    if entries:
        st.caption(f.t("store.upload.saved_help", side=ORIGINAL_MAX_SIDE))
else:
    entries = [(clean_name(upload.name), upload.getvalue(), None) for upload in files or []]
items: list[ReportItem] = []
for number, (name, data, image_id) in enumerate(entries, 1):
    head, remove = st.columns([5, 1], vertical_alignment="bottom")
    head.subheader(f"{number}. {markdown_text(name)}")  # a file name is shown as text, never as Markdown
    if image_id is not None:
        remove.button(f.t("store.upload.remove"), key=f"up_remove_{image_id}", on_click=remove_image,
                      args=(ws, image_id))  # fmt: skip
    try:
        steps = to_mnist_steps(open_image(data), invert=invert, threshold=threshold, contrast=contrast)
    except Exception as exc:
        failed(name, exc)
        continue
    render_steps(f, steps)
    remember_digit(name, steps.final)  # Compare runs section 5 on "my digits"
    result = clean_digit(models, steps.final, noise, int(seed) + number, cache.device())
    render_cleaned(f, result, noise_added=noise is not None, key=f"up_{number}", subject=name)
    items.append(ReportItem(name, result, "photo", noise, int(seed) + number, steps, dict(preprocessing)))

if ws:  # the drawings added on "Draw a digit", read back from the workspace with the noise each one got
    items += [ReportItem(row.name, record_to_cleaned(row.settings, row.result), "drawn", *noise_of_record(row.settings))
              for row in workspace.store().report_items(ws, kind="drawn") if row.result]  # fmt: skip
else:
    items += st.session_state.get("report_drawings", [])
st.header(f.t("upload.report"))
if not items:
    st.info(f.t("upload.report_empty"))
    if ws:  # conclusions can be written (and are kept) before any picture
        workspace.student_text(f.lang, ws, "conclusions")
else:
    render_report_panel(f, items)
    st.subheader(f.t("report.ui.overview"))
    preprocessing = preprocessing | {"procedure": f.t("upload.procedure")}
    described = [f"{it.name}: {noise_text(AppliedNoise.of(it.noise, it.seed) if it.noise else None, f.lang, it.source)}"
                 for it in items]  # each image's own noise: drawings keep theirs whatever this page's mode is  # fmt: skip
    parameters = report_parameters(f.lang, noise, int(seed), list(models), preprocessing, described)
    sheet = sheet_png(items, f.lang)
    noisy_column = has_noisy_column(items)
    st.image(sheet, caption=f.t("upload.sheet" if noisy_column else "report.sheet.as_is"),
             alt=f.t("alt.sheet" if noisy_column else "alt.sheet_as_is", n=len(items)))  # fmt: skip
    c1, c2 = st.columns(2)
    c1.download_button(f.t("upload.download_sheet"), sheet, "denoising_sheet.png", "image/png", key="dl_sheet")
    c2.download_button(f.t("upload.download_zip"), report_zip(items, parameters, f.lang), "denoising_report.zip",
                       "application/zip", key="dl_zip")  # fmt: skip
