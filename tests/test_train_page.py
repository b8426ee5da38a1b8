"""AppTest of the Train page's recipes, speed report and partial-epoch message."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.i18n import t
from lib.train import CLASSROOM, TEXTBOOK

ENTRY = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def train_page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.session_state["keep_lang"] = lang
    at.run()
    at.switch_page("app_pages/train.py")
    return at.run()


def settings(at: AppTest) -> tuple:
    return (at.select_slider(key="keep_train_lr").value, at.select_slider(key="keep_train_batch").value,
            at.select_slider(key="keep_train_stop").value, at.selectbox(key="keep_train_schedule").value)  # fmt: skip


def test_the_page_starts_on_the_classroom_recipe_and_the_textbook_is_one_click_away():
    at = train_page()
    assert not at.exception
    assert settings(at) == (CLASSROOM.lr, CLASSROOM.batch_size, CLASSROOM.stop_loss, CLASSROOM.schedule)
    at.button(key="train_use_textbook").click().run()
    assert not at.exception
    assert settings(at) == (TEXTBOOK.lr, TEXTBOOK.batch_size, TEXTBOOK.stop_loss, TEXTBOOK.schedule)
    at.button(key="train_use_classroom").click().run()
    assert settings(at) == (CLASSROOM.lr, CLASSROOM.batch_size, CLASSROOM.stop_loss, CLASSROOM.schedule)


def test_a_run_uses_the_chosen_recipe_and_reports_images_per_second():
    at = train_page("ru")
    at.slider(key="keep_train_subset").set_value(500).run()
    at.number_input(key="keep_train_epochs").set_value(2).run()
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    assert (job.config.lr, job.config.batch_size, job.config.schedule) == (
        CLASSROOM.lr,
        CLASSROOM.batch_size,
        CLASSROOM.schedule,
    )
    job.join(timeout=120)
    at.run()
    at.run()
    assert not at.exception
    info = job.result.train
    assert info["epochs_run"] == 2.0 and info["images_seen"] == 1000
    done = t("train.finished", "ru", name=t("common.sidebar.my_model", "ru", n=1), epochs=2.0, images=1000)
    assert any(s.value == done for s in at.success), [s.value for s in at.success]
    assert "2 эпохи, 1\u202f000 изображений" in done
    speed = t("train.speed", "ru", rate=info["images_per_s"], epoch_s=0.0).split(" · ")[0]
    assert any(c.value.startswith(speed) for c in at.caption)


def test_a_failed_training_is_explained_in_the_students_language(train_digits):
    from lib.data import Digits
    from lib.jobs import TrainingJob, TrainingQueue
    from lib.noise import preset
    from lib.train import TrainConfig

    empty = Digits(train_digits.images[:0], train_digits.labels[:0])
    job = TrainingJob(TrainConfig(epochs=1), preset("B"), empty, empty, TrainingQueue(capacity=1))
    job.start()
    job.join(30)
    assert job.state == "failed"
    at = train_page("ru")
    at.session_state["train_job"] = job
    at.run()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("train.error.no_digits", "ru")]
