"""Your images: upload photos or scans of digits, see every preprocessing step, clean them, hand in a report."""

import logging

import streamlit as st

from lib.lab import clean_digit
from lib.preprocess import MAX_PIXELS, MAX_UPLOAD_BYTES, PreprocessError, open_image, to_mnist_steps
from lib.report import ReportItem, has_noisy_column, report_parameters, report_zip, sheet_png
from lib.report.content import AppliedNoise
from lib.report.layout import noise_text
from lib.ui import cache
from lib.ui.frame import frame
from lib.ui.handin import render_report_panel
from lib.ui.outside import remember_digit
from lib.ui.widgets import comparison_models, noise_controls, render_cleaned, render_steps

f = frame("page.upload")
st.caption(f.t("upload.intro", mb=MAX_UPLOAD_BYTES // 2**20, mp=MAX_PIXELS // 10**6))
with st.sidebar:
    st.subheader(f.t("upload.preprocessing"))
    invert = st.radio(f.t("upload.invert"), ["auto", "yes", "no"], horizontal=True, key="keep_up_invert", persist_state="session",
                      format_func=lambda v: f.t(f"upload.invert.{v}"))  # fmt: skip
    threshold = st.slider(
        f.t("upload.threshold"),
        0.0,
        0.9,
        0.0,
        0.05,
        key="keep_up_threshold",
        persist_state="session",
        help=f.t("upload.threshold_help"),
        format="localized",
    )
    contrast = st.slider(
        f.t("upload.contrast"), 1.0, 3.0, 1.0, 0.1, key="keep_up_contrast", persist_state="session", format="localized"
    )
    mode = st.radio(f.t("upload.mode"), ["as_is", "add_noise"], key="keep_up_mode", persist_state="session",
                    format_func=lambda v: f.t(f"upload.mode.{v}"))  # fmt: skip
    noise = noise_controls(f, "up", kinds=("gaussian", "speckle")) if mode == "add_noise" else None
    seed = st.number_input(f.t("lab.seed"), 0, 2**31 - 1, 0, key="keep_up_seed", persist_state="session")

files = st.file_uploader(f.t("upload.files"), type=["png", "jpg", "jpeg", "webp", "bmp", "gif"],
                         accept_multiple_files=True, key="upload_files",
                         max_upload_size=MAX_UPLOAD_BYTES // 2**20)  # fmt: skip
models = comparison_models(f)
items: list[ReportItem] = []
for number, upload in enumerate(files or [], 1):
    st.subheader(f"{number}. {upload.name}")
    try:
        steps = to_mnist_steps(open_image(upload.getvalue()), invert=invert, threshold=threshold, contrast=contrast)
    except PreprocessError as exc:
        st.error(f.t("upload.failed", name=upload.name, reason=f.t(f"upload.error.{exc.code}", **exc.params)))
        continue
    except Exception:  # an unforeseen decoder problem in one file must not stop the others
        logging.getLogger(__name__).exception("could not process %s", upload.name)
        st.error(f.t("upload.failed", name=upload.name, reason=f.t("upload.error.unexpected")))
        continue
    render_steps(f, steps)
    remember_digit(upload.name, steps.final)  # Compare runs section 5 on "my digits"
    result = clean_digit(models, steps.final, noise, int(seed) + number, cache.device())
    render_cleaned(f, result, noise_added=noise is not None, key=f"up_{number}")
    settings = {"invert": invert, "threshold": threshold, "contrast": contrast}
    items.append(ReportItem(upload.name, result, "photo", noise, int(seed) + number, steps, settings))

items += st.session_state.get("report_drawings", [])
st.header(f.t("upload.report"))
if not items:
    st.info(f.t("upload.report_empty"))
else:
    procedure = f.t("upload.procedure")
    preprocessing = {"invert": invert, "threshold": threshold, "contrast": contrast, "procedure": procedure}
    render_report_panel(f, items)
    st.subheader(f.t("report.ui.overview"))
    described = [f"{it.name}: {noise_text(AppliedNoise.of(it.noise, it.seed) if it.noise else None, f.lang, it.source)}"
                 for it in items]  # each image's own noise: drawings keep theirs whatever this page's mode is  # fmt: skip
    parameters = report_parameters(f.lang, noise, int(seed), list(models), preprocessing, described)
    sheet = sheet_png(items, f.lang)
    st.image(sheet, caption=f.t("upload.sheet" if has_noisy_column(items) else "content.report.sheet_as_is"))
    c1, c2 = st.columns(2)
    c1.download_button(f.t("upload.download_sheet"), sheet, "denoising_sheet.png", "image/png", key="dl_sheet")
    c2.download_button(f.t("upload.download_zip"), report_zip(items, parameters, f.lang), "denoising_report.zip",
                       "application/zip", key="dl_zip")  # fmt: skip
