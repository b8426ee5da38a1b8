"""The app's file uploaders: one size limit, and file names and types checked by the app, with its own messages.

Streamlit checks the extension (and refuses a NUL byte in a name) itself when `type` is given, but it does
so while it reads the widget's value before the page runs, so a crafted name ends the run with Streamlit's
generic error box. The uploaders here pass no `type`; the app checks the extension of the cleaned name and
says, in the student's language, which file it set aside. The content is checked anyway: images are decoded
by open_image, weights by the checkpoint reader, both whatever the name says.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lib.i18n import t
from lib.limits import UPLOAD_LIMIT_MB
from lib.safe_names import clean_name, markdown_text


def has_type(name: str, types: tuple[str, ...]) -> bool:
    """Whether the cleaned file name ends in one of the extensions (case-insensitive)."""
    return clean_name(name).lower().endswith(tuple(f".{ext.lower()}" for ext in types))


def file_uploader(label: str, key: str, lang: str, types: tuple[str, ...], multiple: bool = False) -> Any:
    """st.file_uploader with the app's size limit; files of another type are set aside with a message."""
    value = st.file_uploader(label, key=key, accept_multiple_files=multiple, max_upload_size=UPLOAD_LIMIT_MB)
    files = list(value or []) if multiple else [value] if value is not None else []
    kept = []
    for upload in files:
        if has_type(upload.name, types):
            kept.append(upload)
        else:
            shown = ", ".join(ext.upper() for ext in types)
            st.error(t("upload.wrong_type", lang, name=markdown_text(upload.name), types=shown))
    return kept if multiple else (kept[0] if kept else None)
