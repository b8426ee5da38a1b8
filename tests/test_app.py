"""AppTest: every page renders without exceptions and its controls change what is shown."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lib.i18n import t
from lib.safe_names import markdown_text
from tests.apptest import app, image_urls, no_exception, page, train_tiny


def test_home_is_the_noise_lab_with_six_triples():
    at = app()
    no_exception(at)
    assert at.title[0].value == t("lab.page", "en")
    assert len(image_urls(at)) == 6 * 3
    assert at.sidebar.selectbox(key="keep_model").value == "shipped:table1_B"
    assert len(at.metric) == 4


def test_moving_a_slider_changes_noisy_and_cleaned_images_but_not_originals():
    at = app()
    at.sidebar.radio(key="keep_lab_kind").set_value("gaussian").run()
    before = image_urls(at)
    at.sidebar.select_slider(key="keep_lab_var").set_value(900.0).run()
    no_exception(at)
    after = image_urls(at)
    assert before[0::3] == after[0::3]  # originals
    assert all(a != b for a, b in zip(before[1::3], after[1::3]))  # noisy
    assert all(a != b for a, b in zip(before[2::3], after[2::3]))  # cleaned


def test_speckle_slider_changes_only_speckle_examples_in_the_mix():
    at = app()
    before = image_urls(at)
    at.sidebar.select_slider(key="keep_lab_speckle").set_value(1.8).run()
    after = image_urls(at)
    changed = [a != b for a, b in zip(before[1::3], after[1::3])]
    assert 0 < sum(changed) < len(changed)  # the speckle half changed, the Gaussian half did not


def test_presets_set_the_sliders():
    at = app()
    at.sidebar.button(key="lab_preset_A").click().run()
    assert at.sidebar.select_slider(key="keep_lab_mean").value == pytest.approx(-5.9)
    assert at.sidebar.select_slider(key="keep_lab_var").value == pytest.approx(35.0)
    at.sidebar.button(key="lab_preset_B").click().run()
    assert at.sidebar.select_slider(key="keep_lab_mean").value == pytest.approx(-20.0)
    assert at.sidebar.select_slider(key="keep_lab_var").value == pytest.approx(600.0)


def test_example_count_seed_and_new_examples():
    at = app()
    at.sidebar.slider(key="keep_lab_count").set_value(2).run()
    first = image_urls(at)
    assert len(first) == 2 * 3
    at.sidebar.button(key="lab_new").click().run()
    assert image_urls(at)[0] != first[0]  # other digits
    at.sidebar.number_input(key="keep_lab_seed").set_value(5).run()
    assert len(image_urls(at)) == 6


def test_error_maps_and_histogram_toggles_add_content():
    at = app()
    at.sidebar.slider(key="keep_lab_count").set_value(3).run()
    at.sidebar.toggle(key="keep_lab_errors").set_value(True).run()
    assert len(image_urls(at)) == 3 * 5
    at.sidebar.toggle(key="keep_lab_hist").set_value(True).run()
    no_exception(at)
    assert len(at.get("plotly_chart")) == 1
    assert any("%" in info.value for info in at.info)


def test_language_switch_changes_labels_and_keeps_values():
    at = app("ru")
    assert at.title[0].value == t("lab.page", "ru")
    at.sidebar.select_slider(key="keep_lab_var").set_value(325.0).run()
    at.sidebar.slider(key="keep_lab_count").set_value(4).run()
    at.sidebar.selectbox(key="keep_lang").set_value("en").run()
    no_exception(at)
    assert at.title[0].value == t("lab.page", "en")
    assert at.sidebar.select_slider(key="keep_lab_var").label == t("noise.var", "en")
    assert at.sidebar.select_slider(key="keep_lab_var").value == pytest.approx(325.0)
    assert at.sidebar.slider(key="keep_lab_count").value == 4


def test_extreme_slider_values_never_raise():
    at = app()
    for key, value in (("keep_lab_mean", 50.0), ("keep_lab_var", 1000.0), ("keep_lab_speckle", 2.0)):
        at.sidebar.select_slider(key=key).set_value(value).run()
    at.sidebar.toggle(key="keep_lab_clip").set_value(False).run()
    at.sidebar.select_slider(key="keep_lab_var").set_value(0.0).run()
    at.sidebar.select_slider(key="keep_lab_speckle").set_value(0.0).run()
    no_exception(at)
    assert len(image_urls(at)) == 18


@pytest.mark.parametrize("path", ["app_pages/inside.py", "app_pages/compare.py"])
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_pages_render_in_both_languages(path, lang):
    at = page(path, lang)
    no_exception(at)
    assert image_urls(at)


def test_inside_shows_table_1_and_follows_the_input():
    at = page("app_pages/inside.py")
    table = at.table[0].value
    shapes = list(table[t("inside.col_shape", "en")])
    assert shapes[0] == "32 × 8 × 8" and shapes[-1] == "1 × 28 × 28"
    before = image_urls(at)
    at.sidebar.number_input(key="keep_inside_index").set_value(42).run()
    no_exception(at)
    assert image_urls(at)[0] != before[0]


def test_model_and_language_choices_survive_page_switches():
    at = app("ru")
    at.sidebar.selectbox(key="keep_model").set_value("shipped:table1_A").run()
    at.sidebar.selectbox(key="keep_lang").set_value("en").run()
    for path in ("app_pages/inside.py", "app_pages/compare.py", "app_pages/noise_lab.py"):
        at.switch_page(path).run()
        no_exception(at)
        assert at.session_state["keep_model"] == "shipped:table1_A"
        assert at.sidebar.selectbox(key="keep_lang").value == "en"


def test_inside_for_the_linear_model():
    at = page("app_pages/inside.py")
    at.sidebar.selectbox(key="keep_model").set_value("shipped:linear_B").run()
    no_exception(at)
    assert any(t("inside.linear_note", "en") in i.value for i in at.info)


def test_compare_group_switch_changes_the_table():
    at = page("app_pages/compare.py")
    first = at.table[0].value.copy()
    at.radio(key="keep_compare_group").set_value("A").run()
    no_exception(at)
    assert not first.equals(at.table[0].value)


def test_tiny_training_run_joins_the_model_picker():
    at = page("app_pages/train.py")
    no_exception(at)
    job = train_tiny(at)
    mine = t("common.sidebar.my_model", "en", n=1)
    deadline = time.time() + 30
    while time.time() < deadline:
        at.run()
        if mine in at.sidebar.selectbox(key="keep_model").options:
            break
    no_exception(at)
    assert job.name and mine in at.sidebar.selectbox(key="keep_model").options
    assert job.name in at.sidebar.selectbox(key="keep_model").help  # the full name is in the picker's help
    assert job.model_id is not None  # kept in the workspace's store before the page showed it
    assert at.session_state["keep_model"] == f"workspace:{job.model_id}"  # the new model is selected
    assert at.query_params["w"] == job.workspace_id  # the workspace id is in the page address
    assert len(at.get("download_button")) == 2


def test_a_third_training_waits_in_the_queue_with_its_place_and_can_cancel(train_digits):
    from lib.data import Digits
    from lib.jobs import TrainingJob
    from lib.noise import preset
    from lib.train import TrainConfig
    from lib.ui import server

    queue = server.training_queue()  # the same server-wide queue the page uses
    small = Digits(train_digits.images[:2000], train_digits.labels[:2000])
    others = [TrainingJob(TrainConfig(epochs=50, stop_loss=0, seed=i), preset("B"), small, small, queue)
              for i in range(queue.capacity)]  # fmt: skip
    for other in others:  # two other students are training
        other.start()
    try:
        at = page("app_pages/train.py")
        at.slider(key="keep_train_subset").set_value(500).run()
        at.number_input(key="keep_train_epochs").set_value(1).run()
        at.button(key="train_start").click().run()
        job = at.session_state["train_job"]
        assert job.state == "queued"
        no_exception(at)
        assert at.button(key="train_start").disabled
        assert at.button(key="train_stop").label == t("train.cancel", "en") and not at.button(key="train_stop").disabled
        warning = at.warning[0].value
        assert warning.startswith(t("train.queued", "en", place=1, running=2, capacity=2, start="", duration="")[:40])
        at.button(key="train_stop").click().run()  # cancel
        job.join(10)
        at.run()
        no_exception(at)
        assert job.state == "stopped" and job.result is None
        assert any(i.value == t("train.cancelled", "en") for i in at.info)
        assert not at.button(key="train_start").disabled
    finally:
        for other in others:
            other.stop()
        for other in others:
            other.join(60)
    assert queue.load() == (0, 0)


def test_loading_weights_selects_them_and_a_corrupt_file_gets_a_message():
    weights = Path(__file__).resolve().parent.parent / "weights" / "table1_A.pt"
    at = page("app_pages/train.py")
    at.file_uploader(key="train_load_weights").set_value(("broken.pt", b"garbage", "application/octet-stream")).run()
    no_exception(at)
    assert len(at.error) == 1 and markdown_text("broken.pt") in at.error[0].value  # the name escaped for Markdown
    assert at.error[0].value.startswith(t("train.load_failed", "en", error="")[:20])
    at.file_uploader(key="train_load_weights").set_value(
        ("my_model.pt", weights.read_bytes(), "application/octet-stream")
    ).run()
    no_exception(at)
    from lib.ui import workspace

    (kept,) = workspace.store().models(at.query_params["w"])  # kept in the workspace, then chosen
    assert (kept.display_name, kept.source) == ("my_model", "uploaded")
    assert at.session_state["keep_model"] == f"workspace:{kept.id}"
    assert any(s.value == t("train.loaded", "en") for s in at.success)


def test_a_corrupt_file_in_the_weights_folder_is_skipped_with_a_warning(tmp_path, monkeypatch):
    import shutil

    from lib.ui import cache

    source = Path(__file__).resolve().parent.parent / "weights"
    shutil.copy(source / "table1_B.pt", tmp_path / "table1_B.pt")
    (tmp_path / "zz_broken.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setattr(cache, "WEIGHTS_DIR", tmp_path)
    at = app()
    no_exception(at)
    assert any(markdown_text("zz_broken.pt") in w.value for w in at.sidebar.warning)  # the name escaped for Markdown
    assert len(image_urls(at)) == 18  # the good model still cleans the examples
