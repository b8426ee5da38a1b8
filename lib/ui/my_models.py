"""Train page: the workspace's kept models with what they are and a Delete (with a confirmation) for each."""

from __future__ import annotations

import logging

import streamlit as st

from lib.safe_names import markdown_text
from lib.store import ModelInfo
from lib.ui import workspace
from lib.ui.frame import CHOSEN_MODEL, Frame

log = logging.getLogger(__name__)

CONFIRM = "my_models_confirm"  # the id of the model whose Delete was pressed once
DELETED = "my_models_deleted"  # the name of the model just deleted (said once on the next run)


def _ask(model_id: int) -> None:
    """Delete callback: ask before deleting (the confirmation shows on this rerun)."""
    st.session_state[CONFIRM] = model_id


def _delete(workspace_id: str, info: ModelInfo, name: str) -> None:
    """Confirmation callback: the model leaves the store, the picker and this session's choice."""
    st.session_state.pop(CONFIRM, None)
    try:
        workspace.store().delete_model(workspace_id, info.id)
    except Exception:
        log.exception("could not delete a model")
        return
    if st.session_state.get(CHOSEN_MODEL) == workspace.model_key(info.id):
        st.session_state.pop(CHOSEN_MODEL, None)  # the picker falls back to the textbook's model
    workspace.refresh_models()
    st.session_state[DELETED] = name


def models_panel(f: Frame) -> None:
    """An expander listing the workspace's models; nothing without a workspace (the session's models are gone
    with the tab anyway)."""
    if not f.workspace_id:
        return
    store = workspace.store()
    infos = store.models(f.workspace_id)
    asking = CONFIRM in st.session_state or DELETED in st.session_state  # keep the panel open while it talks
    with st.expander(f.t("store.models.header", n=len(infos)), expanded=asking):
        deleted = st.session_state.pop(DELETED, None)
        if deleted:
            st.success(f.t("store.models.deleted", name=markdown_text(deleted)))
        if not infos:
            st.caption(f.t("store.models.none"))
        for info in infos:
            name = workspace.model_title(info, f.lang)
            facts = (
                [f.t(f"store.models.source.{info.source}")] if info.source in ("trained", "partial", "uploaded") else []
            )
            if info.best_psnr is not None:
                facts.append(f.t("store.models.psnr", psnr=info.best_psnr))
            text, button = st.columns([4, 1], vertical_alignment="center")
            text.markdown(f"**{markdown_text(name)}**  \n{' · '.join(facts)}")
            if st.session_state.get(CONFIRM) == info.id:
                st.warning(f.t("store.models.confirm", name=markdown_text(name)))
                yes, no = st.columns(2)
                yes.button(f.t("store.models.confirm_yes"), key=f"model_delete_yes_{info.id}", type="primary",
                           on_click=_delete, args=(f.workspace_id, info, name))  # fmt: skip
                no.button(f.t("store.models.cancel"), key=f"model_delete_no_{info.id}",
                          on_click=st.session_state.pop, args=(CONFIRM, None))  # fmt: skip
            else:
                button.button(f.t("store.models.delete"), key=f"model_delete_{info.id}", icon=":material/delete:",
                              help=f.t("store.models.delete_help"), on_click=_ask, args=(info.id,))  # fmt: skip
        usage, quota = store.usage(f.workspace_id), store.quota()
        st.caption(f.t("store.models.usage", models=usage.models, limit=quota.models, mb=usage.megabytes,
                       limit_mb=quota.megabytes))  # fmt: skip
