"""The workspace in the app (AppTest): the id in the address, read back by a new session, never another's data."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.i18n import t
from lib.store import valid_workspace_id
from lib.store.debounce import SettingsWriter
from lib.ui import workspace
from lib.ui.workspace import LINK_PANEL_KEY

ENTRY = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def visit(lang: str = "en", w: str | None = None, page: str | None = None) -> AppTest:
    """A new browser session (a reload, another tab or device), optionally with a workspace link."""
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.session_state["keep_lang"] = lang
    if w is not None:
        at.query_params["w"] = w
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_first_visit_creates_a_workspace_and_puts_it_in_the_address():
    at = visit()
    ws = at.query_params["w"]
    assert valid_workspace_id(ws) and workspace.store().workspace(ws) is not None
    at.run()
    assert at.query_params["w"] == ws  # the same on every rerun
    assert not at.sidebar.get("code")  # «your link» is drawn when its panel is opened
    at.session_state[LINK_PANEL_KEY] = True
    at.run()
    link = [c for c in at.sidebar.get("code")]
    assert any(ws in c.proto.code_text for c in link)  # it shows the address with the id
    assert not at.warning


def test_a_first_visit_writes_the_new_workspace_once():
    """30 students arriving together: each first page makes one write (the workspace), not a create and a touch."""
    from sqlalchemy import event

    writes = []

    def counted(connection, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.split("(")[0].strip())

    engine = workspace.store().engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        at = visit()
        at.run()  # a rerun within the minute writes nothing either
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    assert writes == ["INSERT INTO workspaces"]
    assert workspace.store().workspace(at.query_params["w"]).last_seen_at is not None


def test_a_new_session_with_the_link_reads_back_settings_text_and_models():
    store = workspace.store()
    ws = store.create_workspace().id
    store.set_settings(ws, {"keep_lab_count": 3, "keep_lab_seed": 42})
    store.set_text(ws, "conclusions", "Медианный фильтр хуже.")
    at = visit(w=ws)
    assert at.query_params["w"] == ws
    assert at.sidebar.slider(key="keep_lab_count").value == 3
    assert at.sidebar.number_input(key="keep_lab_seed").value == 42
    at.switch_page("app_pages/upload.py").run()
    assert at.text_area(key="ws_text_conclusions").value == "Медианный фильтр хуже."


def test_a_link_opened_in_a_browser_of_another_language_draws_the_navigation_in_the_workspace_s():
    """The navigation is drawn before the workspace is known (in the browser's language, Russian here); the
    workspace's English comes back with the link, and the navigation follows in the same page load."""
    from lib.ui.lang import NAV_LANG_KEY

    store = workspace.store()
    ws = store.create_workspace().id
    store.set_settings(ws, {"keep_lang": "en"})
    at = AppTest.from_file(ENTRY, default_timeout=120)  # no language chosen in this session yet
    at.query_params["w"] = ws
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["keep_lang"] == "en" and at.session_state[NAV_LANG_KEY] == "en"
    assert at.title[0].value == t("lab.page", "en")


def test_a_changed_setting_is_written_once_debounced_and_survives():
    store = workspace.store()
    running = workspace.settings_writer()
    running.flush()
    # the server's writer flushes every few seconds on its own; this one waits for the test's flush
    writer = SettingsWriter(store, period=3600)
    workspace._WRITERS[id(store)] = writer
    try:
        at = visit()
        ws = at.query_params["w"]
        for count in (2, 3, 4, 5, 7):  # five moves of a slider, five reruns
            at.sidebar.slider(key="keep_lab_count").set_value(count).run()
        for _ in range(3):
            at.run()  # reruns that change nothing hand nothing to the writer
        assert writer.writes == 0 and writer.pending(ws)["keep_lab_count"] == 7
        writer.flush()
        assert writer.writes == 1  # one transaction for all five moves
        assert store.settings(ws)["keep_lab_count"] == 7
        writer.flush()
        assert writer.writes == 1  # nothing pending, nothing written
    finally:
        workspace._WRITERS[id(store)] = running
    again = visit(w=ws)
    assert again.sidebar.slider(key="keep_lab_count").value == 7


def test_text_is_written_when_it_changes():
    at = visit(page="app_pages/upload.py")
    ws = at.query_params["w"]
    at.text_area(key="ws_text_conclusions").input("Шум Б сложнее.").run()
    assert workspace.store().texts(ws)["conclusions"] == "Шум Б сложнее."


def test_malformed_or_unknown_link_gives_a_fresh_workspace_and_a_message():
    store = workspace.store()
    victim = store.create_workspace().id
    store.set_text(victim, "conclusions", "чужой текст")
    for bad in ("x' OR 1=1 --", "A" * 24, victim[:-1], ""):
        at = visit(lang="ru", w=bad)
        ws = at.query_params["w"]
        assert ws != victim and valid_workspace_id(ws)
        assert store.texts(ws) == {}
        if bad:
            assert [w.value for w in at.warning] == [t("store.link.unknown", "ru")]


def test_two_workspaces_never_see_each_others_models():
    store = workspace.store()
    from tests.factories import small_checkpoint

    a = store.create_workspace().id
    b = store.create_workspace().id
    store.add_model(a, display_name="модель А", checkpoint=small_checkpoint(1))
    store.add_model(b, display_name="модель Б", checkpoint=small_checkpoint(2))
    at_a, at_b = visit(w=a), visit(w=b)
    options_a = at_a.sidebar.selectbox(key="keep_model").options
    options_b = at_b.sidebar.selectbox(key="keep_model").options
    assert "модель А" in options_a and "модель Б" not in options_a
    assert "модель Б" in options_b and "модель А" not in options_b


def test_an_interrupted_training_offers_resume_and_keep_as_it_is(train_digits):
    from lib.data import Digits
    from lib.jobs import state_to_bytes, training_settings
    from lib.noise import preset
    from lib.train import TrainConfig, train

    config = TrainConfig(epochs=3, batch_size=32, stop_loss=0.0, seed=1, val_size=64)
    small = Digits(train_digits.images[:96], train_digits.labels[:96])
    states: list[dict] = []
    train(config, preset("B"), small, small, on_epoch_state=states.append)
    store = workspace.store()
    ws = store.create_workspace().id
    info = store.create_training(ws, settings=training_settings(config, preset("B")) | {"number": 1}, epochs_total=3)
    store.update_training(info.id, status="interrupted", resume_state=state_to_bytes(states[1]), resume_epoch=2)
    at = visit(lang="ru", w=ws, page="app_pages/train.py")
    assert t("store.train.interrupted", "ru", name=t("common.sidebar.my_model", "ru", n=1), k=2, n=3) in [
        w.value for w in at.warning
    ]
    assert at.button(key=f"resume_{info.id}").label == t("store.train.resume", "ru")
    at.button(key=f"keep_{info.id}").click().run()
    assert not at.exception
    (model,) = store.models(ws)
    assert (model.source, model.epochs) == ("partial", 2.0)
    at.run()
    assert at.session_state["keep_model"] == f"workspace:{model.id}"  # kept and chosen
    assert not any("прервано" in w.value for w in at.warning)  # the offer is gone
    assert t("store.model.partial", "ru", name=t("common.sidebar.my_model", "ru", n=1), epochs=2.0) in (
        at.sidebar.selectbox(key="keep_model").options
    )


def test_a_kept_model_is_deleted_after_a_confirmation_and_leaves_the_picker():
    store = workspace.store()
    from tests.factories import small_checkpoint

    ws = store.create_workspace().id
    keep = store.add_model(ws, display_name="оставить", checkpoint=small_checkpoint(1), source="uploaded")
    gone = store.add_model(ws, display_name="удалить *это*", checkpoint=small_checkpoint(2), source="uploaded")
    store.set_settings(ws, {"keep_model": workspace.model_key(gone.id)})
    at = visit(w=ws, page="app_pages/train.py")
    assert at.sidebar.selectbox(key="keep_model").value == workspace.model_key(gone.id)
    assert t("store.models.header", "en", n=2) in [e.label for e in at.expander]
    at.button(key=f"model_delete_{gone.id}").click().run()
    assert [m.id for m in store.models(ws)] == [keep.id, gone.id]  # the first press only asks
    assert any("удалить \\*это\\*" in w.value for w in at.warning)  # the name as text, never as Markdown
    at.button(key=f"model_delete_no_{gone.id}").click().run()
    assert [m.id for m in store.models(ws)] == [keep.id, gone.id] and not at.warning  # Cancel keeps it
    at.button(key=f"model_delete_{gone.id}").click().run()
    at.button(key=f"model_delete_yes_{gone.id}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.id for m in store.models(ws)] == [keep.id]
    assert any("удалить" in s.value for s in at.success)
    picker = at.sidebar.selectbox(key="keep_model")
    assert workspace.model_key(gone.id) not in picker.options and picker.value == "shipped:table1_B"
    assert t("store.models.header", "en", n=1) in [e.label for e in at.expander]
