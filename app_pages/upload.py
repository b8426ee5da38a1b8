"""Your images: upload photos or scans of digits, see every preprocessing step, clean them, hand in a report."""

import logging

import streamlit as st

from lib.lab import clean_digit
from lib.limits import UPLOAD_LIMIT_MB
from lib.preprocess import IMAGE_TYPES, MAX_PIXELS, PreprocessError, open_image, to_mnist_steps
from lib.report import ReportItem, has_noisy_column, report_parameters, report_zip, sheet_png
from lib.safe_names import clean_name, markdown_text
from lib.ui import cache
from lib.ui.frame import frame
from lib.ui.outside import remember_digit
from lib.ui.uploads import file_uploader
from lib.ui.widgets import comparison_models, noise_controls, render_cleaned, render_steps

f = frame("page.upload")
st.caption(f.t("upload.intro", mb=UPLOAD_LIMIT_MB, mp=MAX_PIXELS // 10**6))
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

files = file_uploader(f.t("upload.files"), "upload_files", f.lang, IMAGE_TYPES, multiple=True)
models = comparison_models(f)
items: list[ReportItem] = []
for number, upload in enumerate(files or [], 1):
    name = clean_name(upload.name)  # no control or bidi characters; escaped wherever Markdown renders it
    st.subheader(f"{number}. {markdown_text(name)}")
    try:
        steps = to_mnist_steps(open_image(upload.getvalue()), invert=invert, threshold=threshold, contrast=contrast)
    except PreprocessError as exc:
        st.error(f.t("upload.failed", name=markdown_text(name), reason=f.t(f"upload.error.{exc.code}", **exc.params)))
        continue
    except Exception:  # an unforeseen decoder problem in one file must not stop the others
        logging.getLogger(__name__).exception("could not process %r", name)
        st.error(f.t("upload.failed", name=markdown_text(name), reason=f.t("upload.error.unexpected")))
        continue
    render_steps(f, steps)
    remember_digit(name, steps.final)  # Compare runs section 5 on "my digits"
    result = clean_digit(models, steps.final, noise, int(seed) + number, cache.device())
    render_cleaned(f, result, noise_added=noise is not None, key=f"up_{number}", subject=name)
    items.append(ReportItem(name, result))

items += st.session_state.get("report_drawings", [])
st.header(f.t("upload.report"))
if not items:
    st.info(f.t("upload.report_empty"))
else:
    procedure = f.t("upload.procedure")
    preprocessing = {"invert": invert, "threshold": threshold, "contrast": contrast, "procedure": procedure}
    parameters = report_parameters(f.lang, noise, int(seed), list(models), preprocessing, [it.name for it in items])
    sheet = sheet_png(items, f.lang)
    noisy_column = has_noisy_column(items)
    st.image(sheet, caption=f.t("upload.sheet" if noisy_column else "content.report.sheet_as_is"),
             alt=f.t("alt.sheet" if noisy_column else "alt.sheet_as_is", n=len(items)))  # fmt: skip
    c1, c2 = st.columns(2)
    c1.download_button(f.t("upload.download_sheet"), sheet, "denoising_sheet.png", "image/png", key="dl_sheet")
    c2.download_button(f.t("upload.download_zip"), report_zip(items, parameters, f.lang), "denoising_report.zip",
                       "application/zip", key="dl_zip")  # fmt: skip
