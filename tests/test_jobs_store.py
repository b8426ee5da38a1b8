"""Trainings owned by workspaces: kept in the store as they run, one per workspace, resumable after a crash."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import torch

from lib import checkpoint as ckpt_io
from lib.data import Digits
from lib.jobs import (
    TrainingQueue,
    WorkspaceJobs,
    keep_interrupted,
    start_job,
    state_from_bytes,
    state_to_bytes,
    training_settings,
)
from lib.noise import preset
from lib.store import PICKED_MODEL_SETTING, Store, TrainingBusy, model_picker_key
from lib.teacher import board_row
from lib.train import TrainConfig, train


def digits(train_digits, n: int, offset: int = 0) -> Digits:
    return Digits(train_digits.images[offset : offset + n], train_digits.labels[offset : offset + n])


def wait_until(condition, timeout=120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def store(tmp_path):
    opened = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    yield opened
    opened.close()


def setup(train_digits):
    config = TrainConfig(epochs=3, batch_size=32, stop_loss=0.0, seed=3, val_size=64)
    return config, preset("B"), digits(train_digits, 128), digits(train_digits, 64, offset=1000)


def test_finished_training_is_in_the_store_before_the_job_says_done(store, train_digits):
    config, noise, part, val = setup(train_digits)
    ws = store.create_workspace()
    registry = WorkspaceJobs()
    seen_done_without_model = []
    job = start_job(store, ws.id, config, noise, part, val, TrainingQueue(1), registry, "Моя модель 1")
    assert registry.job(ws.id) is job
    with pytest.raises(TrainingBusy):  # a second tab of the same workspace cannot start another
        start_job(store, ws.id, config, noise, part, val, TrainingQueue(1), registry, "Моя модель 2")

    def done() -> bool:
        if job.state == "done" and not store.models(ws.id):
            seen_done_without_model.append(True)
        return job.state == "done"

    assert wait_until(done)
    assert seen_done_without_model == []
    (model,) = store.models(ws.id)
    assert (model.display_name, model.source, model.epochs, model.training_id) == ("Моя модель 1", "trained", 3.0,
                                                                                   job.training_id)  # fmt: skip
    assert model.best_psnr == max(r["val_psnr"] for r in job.result.history)
    kept = ckpt_io.load_bytes(store.model_checkpoint(ws.id, model.id))
    for key, value in job.result.state_dict.items():
        torch.testing.assert_close(kept.state_dict[key], value)
    info = store.training(ws.id, job.training_id)
    assert (info.status, info.model_id, info.epochs_done, info.has_resume_state) == ("done", model.id, 3.0, False)
    # the finished row carries every epoch's results, whenever the last heartbeat was: the teacher's board reads them
    assert info.progress["history"] == [dict(r) for r in job.result.history]
    assert info.progress["images_seen"] == 3 * 128
    row = board_row(info)
    assert row.digits_seen == 3 * 128 and row.epochs == 3.0
    last = job.result.history[-1]
    assert row.psnr_gaussian == pytest.approx(last["val_psnr_gaussian"])
    assert row.psnr_speckle == pytest.approx(last["val_psnr_speckle"])
    # a tab opened after the finish (no page saw it) restores the picker to the new model
    assert store.settings(ws.id)[PICKED_MODEL_SETTING] == model_picker_key(model.id)


def test_idle_workspace_stops_its_training_and_keeps_the_partial_model(store, train_digits):
    config, noise, part, val = setup(train_digits)
    config = TrainConfig(epochs=200, batch_size=32, stop_loss=0.0, seed=3, val_size=64)
    ws = store.create_workspace()
    registry, queue = WorkspaceJobs(), TrainingQueue(1)
    registry.seen(ws.id, "tab-1")
    job = start_job(store, ws.id, config, noise, part, val, queue, registry, "Моя модель 1")
    assert wait_until(lambda: job.snapshot() is not None and job.snapshot().epoch >= 2)
    open_tabs = {"tab-1": True}
    assert registry.workspace_open(ws.id, open_tabs.get)
    assert queue.reap(lambda w: registry.workspace_open(w, open_tabs.get), grace=60, now=0.0) == []
    open_tabs["tab-1"] = False  # the tab closed; after the teacher's idle time the training stops
    assert queue.reap(lambda w: registry.workspace_open(w, open_tabs.get), grace=60, now=10.0) == []
    assert queue.reap(lambda w: registry.workspace_open(w, open_tabs.get), grace=60, now=71.0) == [job]
    assert wait_until(lambda: not job.active)
    (model,) = store.models(ws.id)
    assert model.source == "partial" and 1.0 < model.epochs < 200  # where it stopped, e.g. 1.5 epochs
    assert model.epochs == job.result.train["epochs_run"]
    info = store.training(ws.id, job.training_id)
    assert (info.status, info.stop_reason) == ("stopped", "session_ended")
    assert registry.prune(open_tabs.get) == 1 and registry.job(ws.id) is None  # its memory goes back


def test_interrupted_training_resumes_to_the_uninterrupted_result(store, train_digits):
    config, noise, part, val = setup(train_digits)
    states: list[dict] = []
    whole = train(config, noise, part, val, on_epoch_state=states.append)
    ws = store.create_workspace()
    # a server ran the first epoch, saved its state, and died: the row still says "running", no heartbeat since
    info = store.create_training(ws.id, settings=training_settings(config, noise), epochs_total=3, runner="gone")
    store.update_training(info.id, status="running", resume_state=state_to_bytes(states[0]), resume_epoch=1,
                          epochs_done=1.4)  # fmt: skip
    assert store.mark_interrupted(20, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)) == 1
    assert store.training(ws.id, info.id).status == "interrupted"
    registry = WorkspaceJobs()
    job = start_job(store, ws.id, config, noise, part, val, TrainingQueue(1), registry, "Моя модель 1",
                    resume_training=info.id)  # fmt: skip
    assert wait_until(lambda: not job.active)
    assert job.state == "done"
    (model,) = store.models(ws.id)
    resumed = ckpt_io.load_bytes(store.model_checkpoint(ws.id, model.id))
    for key, value in whole.state_dict.items():
        torch.testing.assert_close(resumed.state_dict[key], value, rtol=0, atol=0)
    assert [r["epoch"] for r in resumed.history] == [1.0, 2.0, 3.0]


def test_keep_interrupted_training_as_it_is(store, train_digits):
    config, noise, part, val = setup(train_digits)
    states: list[dict] = []
    train(config, noise, part, val, on_epoch_state=states.append)
    ws = store.create_workspace()
    info = store.create_training(ws.id, settings=training_settings(config, noise), epochs_total=3)
    store.update_training(info.id, status="interrupted", resume_state=state_to_bytes(states[1]), resume_epoch=2)
    model_id = keep_interrupted(store, ws.id, info.id, "Моя модель 1")
    model = store.model(ws.id, model_id)
    assert (model.source, model.epochs) == ("partial", 2.0)
    kept = ckpt_io.load_bytes(store.model_checkpoint(ws.id, model_id))
    saved = state_from_bytes(state_to_bytes(states[1]))["model"]
    for key, value in saved.items():
        torch.testing.assert_close(kept.state_dict[key], value, rtol=0, atol=0)
    assert store.training(ws.id, info.id).status == "kept"
    # an interrupted training that never finished an epoch has nothing to keep
    empty = store.create_training(ws.id, settings=training_settings(config, noise), epochs_total=3)
    store.update_training(empty.id, status="interrupted")
    assert keep_interrupted(store, ws.id, empty.id, "x") is None and len(store.models(ws.id)) == 1
