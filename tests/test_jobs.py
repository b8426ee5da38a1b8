"""The server-wide training queue: slots in order of arrival, turns in time slices, cancel, ended sessions."""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest

from lib.data import Digits
from lib.jobs import TrainingJob, TrainingQueue, Turns
from lib.noise import preset
from lib.train import TrainConfig

DURATION = r"(\d+ ч \d+ мин|\d+ мин \d+ с|\d+ с)"  # how lib.i18n.format_duration writes times in Russian


def digits(train_digits, n: int) -> Digits:
    return Digits(train_digits.images[:n], train_digits.labels[:n])


def job(queue, train_digits, n=64, epochs=1, owner="", **config) -> TrainingJob:
    small = digits(train_digits, n)
    cfg = TrainConfig(epochs=epochs, batch_size=32, stop_loss=0.0, **config)
    return TrainingJob(cfg, preset("B"), small, digits(train_digits, 32), queue, owner=owner)


def wait_until(condition, timeout=60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_slots_go_in_order_of_arrival(train_digits):
    queue = TrainingQueue(capacity=1)
    first = job(queue, train_digits, n=2000, epochs=50)
    first.start()
    assert wait_until(lambda: first.state == "running")
    later = [job(queue, train_digits, seed=i) for i in range(3)]
    for j in later:
        j.start()
    assert wait_until(lambda: queue.load() == (1, 3))
    assert [queue.info(j).place for j in later] == [1, 2, 3]
    first.stop()
    for j in later:
        j.join(120)
    assert [j.state for j in later] == ["done"] * 3
    assert later[0].started_at < later[1].started_at < later[2].started_at
    assert queue.load() == (0, 0)


@pytest.mark.parametrize("at_once", [1, 2])
def test_no_more_trainings_step_at_once_than_allowed(train_digits, at_once):
    queue = TrainingQueue(capacity=3, at_once=at_once)
    inside, most = [0], [0]
    lock = threading.Lock()
    jobs = [job(queue, train_digits, n=640, epochs=2, seed=i) for i in range(3)]
    for j in jobs:
        original = j._on_progress

        def hook(p, original=original):
            with lock:  # the callback runs while the job holds its turn: count who is inside
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.002)
            with lock:
                inside[0] -= 1
            original(p)

        j._on_progress = hook
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(120)
    assert [j.state for j in jobs] == ["done", "done", "done"]
    assert most[0] == at_once  # three runs hold slots; only `at_once` of them compute at any moment


def _take_turns(turns: Turns, steps: int, step=lambda: time.sleep(0.001)) -> list[str]:
    """Two workers each doing `steps` steps with yield_turn between them; the order the steps ran in."""
    order: list[str] = []
    coming = {n: threading.Event() for n in "ab"}

    def worker(name):
        coming[name].set()
        turns.acquire(name)
        other = "b" if name == "a" else "a"
        if coming[other].wait(5):
            time.sleep(0.02)  # the first holder starts once the other one is surely waiting for its turn
        for _ in range(steps):
            order.append(name)
            step()
            turns.yield_turn(name)
        turns.release(name)

    threads = [threading.Thread(target=worker, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return order


def test_turns_without_a_slice_alternate_step_by_step():
    order = _take_turns(Turns(slice_seconds=0.0), 5)
    switches = sum(1 for x, y in zip(order, order[1:]) if x != y)
    assert len(order) == 10 and switches >= 7  # round robin, not one holder running to the end


def test_turns_hand_over_after_each_time_slice():
    now = [0.0]  # a clock that advances one unit per step, so slices are counted in steps exactly

    def step():
        now[0] += 1.0

    order = _take_turns(Turns(slice_seconds=3.0, clock=lambda: now[0]), 9, step)
    runs = [len(list(group)) for _, group in itertools.groupby(order)]
    assert len(order) == 18 and sorted(set(order)) == ["a", "b"]
    assert runs == [3, 3, 3, 3, 3, 3]  # each turn lasts a whole slice of 3 steps, then the other one's turn


def test_cancel_while_queued_frees_the_place(train_digits):
    queue = TrainingQueue(capacity=1)
    blocker = job(queue, train_digits, n=2000, epochs=50)
    blocker.start()
    assert wait_until(lambda: blocker.state == "running")
    waiting = job(queue, train_digits)
    behind = job(queue, train_digits)
    waiting.start()
    behind.start()
    assert wait_until(lambda: queue.info(behind).place == 2)
    waiting.stop()
    waiting.join(10)
    assert waiting.state == "stopped" and waiting.result is None
    assert queue.info(behind).place == 1
    blocker.stop()
    blocker.join(60)
    behind.join(60)
    assert behind.state == "done" and queue.load() == (0, 0)


def test_the_expected_start_counts_the_jobs_ahead(train_digits):
    queue = TrainingQueue(capacity=1, seconds_per_image=0.001)
    running = job(queue, train_digits, n=2000, epochs=50)
    running.start()
    assert wait_until(lambda: running.state == "running")
    first, second = job(queue, train_digits, n=1000, epochs=2), job(queue, train_digits, n=1000, epochs=2)
    first.start()
    second.start()
    assert wait_until(lambda: queue.load() == (1, 2))
    one, two = queue.info(first), queue.info(second)
    assert one.place == 1 and two.place == 2
    assert one.start_in == pytest.approx(running.remaining_seconds(), rel=0.5)
    # the second waits for the first to run: its whole expected duration later
    assert two.start_in - one.start_in == pytest.approx(queue.expected_seconds(2000, 1), rel=0.3)
    for j in (second, first, running):
        j.stop()
        j.join(60)


def test_a_gone_session_stops_its_training_after_the_grace_period(train_digits):
    queue = TrainingQueue(capacity=1)
    mine = job(queue, train_digits, n=2000, epochs=50, owner="tab-1")
    queued = job(queue, train_digits, owner="tab-2")
    mine.start()
    queued.start()
    assert wait_until(lambda: mine.state == "running")
    alive = {"tab-1": True, "tab-2": True}
    assert queue.reap(alive.get, grace=10, now=100.0) == []
    alive["tab-1"] = False  # the tab was closed
    assert queue.reap(alive.get, grace=10, now=101.0) == []  # a reload reconnects within the grace period
    assert queue.reap(alive.get, grace=10, now=111.0) == [mine]
    mine.join(60)
    assert mine.state == "stopped" and mine.stop_reason == "session_ended"
    queued.join(60)  # its slot went to the next student
    assert queued.state == "done"
    assert queue.load() == (0, 0)


def test_a_session_that_comes_back_keeps_its_training(train_digits):
    queue = TrainingQueue(capacity=1)
    mine = job(queue, train_digits, n=2000, epochs=50, owner="tab-1")
    mine.start()
    assert wait_until(lambda: mine.state == "running")
    alive = {"tab-1": False}
    queue.reap(alive.get, grace=10, now=0.0)
    alive["tab-1"] = True  # reconnected
    queue.reap(alive.get, grace=10, now=5.0)
    alive["tab-1"] = False
    assert queue.reap(alive.get, grace=10, now=12.0) == []  # the clock started again
    assert mine.state == "running"
    mine.stop()
    mine.join(60)


def test_failed_training_is_reported_and_frees_the_slot(train_digits):
    queue = TrainingQueue(capacity=1)
    empty = job(queue, train_digits, n=0)
    empty.start()
    empty.join(30)
    assert empty.state == "failed" and "no training digits" in empty.error
    assert empty.error_key == "train.error.no_digits"  # the page explains it in the student's language
    assert queue.load() == (0, 0)


def test_loss_curve_is_continuous_across_epochs_and_a_one_epoch_run_has_a_line(train_digits):
    queue = TrainingQueue(capacity=1)
    one = job(queue, train_digits, n=320, epochs=1)
    one.start()
    one.join(60)
    points = one.curve()
    assert len(points) == 10  # a point per batch: a line, not a dot
    assert points[-1][0] == pytest.approx(1.0)
    several = job(queue, train_digits, n=640, epochs=4)
    several.start()
    several.join(120)
    points = several.curve()
    xs = [x for x, _ in points]
    assert xs == sorted(xs) and xs[-1] == pytest.approx(4.0)
    # The page used to plot the epoch's running mean, which restarts at every epoch; the smoothed batch
    # loss does not jump at a boundary by more than it moves between neighbouring batches elsewhere.
    steps = [abs(b - a) for (_, a), (_, b) in zip(points, points[1:])]
    boundary = [abs(points[i + 1][1] - points[i][1]) for i, (x, _) in enumerate(points[:-1]) if x in (1.0, 2.0, 3.0)]
    assert len(boundary) == 3 and max(boundary) <= 3 * sorted(steps)[len(steps) // 2] + 1e-9


def test_expected_seconds_scale_with_sharing():
    queue = TrainingQueue(capacity=2, seconds_per_image=0.001)
    assert queue.expected_seconds(1000, 1) == pytest.approx(1.0)
    assert queue.expected_seconds(1000, 2) == pytest.approx(2.0)
    queue.observe(seconds=4.0, images=1000, sharing=2)  # two took turns: 2 ms per image alone
    assert 0.001 < queue.seconds_per_image < 0.002
    side_by_side = TrainingQueue(capacity=3, seconds_per_image=0.001, at_once=2)
    assert side_by_side.expected_seconds(1000, 2) == pytest.approx(1.0)  # each computes on its own core
    assert side_by_side.expected_seconds(1000, 3) == pytest.approx(1.5)  # three share two turns


def test_turns_let_two_holders_run_side_by_side():
    turns = Turns(holders=2)
    turns.acquire("a")
    got_it = threading.Event()
    threading.Thread(target=lambda: (turns.acquire("b"), got_it.set()), daemon=True).start()
    assert got_it.wait(5)  # a second holder does not wait for the first
    third = threading.Event()
    threading.Thread(target=lambda: (turns.acquire("c"), third.set()), daemon=True).start()
    assert not third.wait(0.3)  # a third one waits ...
    turns.release("a")
    assert third.wait(5)  # ... until a turn is free
    with pytest.raises(ValueError):
        Turns(holders=0)


def train_page(lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file("../app_pages/train.py", default_timeout=120)
    at.session_state["keep_lang"] = lang
    return at.run()


def test_train_page_shows_the_expected_time_greys_out_start_and_shows_progress_at_once(monkeypatch):
    monkeypatch.setenv("CLASSROOM_TRAIN_MAX_IMAGES", "100000")
    at = train_page("ru")
    at.slider(key="keep_train_subset").set_value(2000).run()
    at.number_input(key="keep_train_epochs").set_value(120).run()  # 240 000 images > the teacher's 100 000
    assert at.button(key="train_start").disabled
    assert any("100\u202f000" in w.value and "240\u202f000" in w.value for w in at.warning)
    at.number_input(key="keep_train_epochs").set_value(40).run()
    assert not at.button(key="train_start").disabled
    expected = [c.value for c in at.caption if c.value.startswith("Ожидаемое время: ≈ ")]
    assert expected and re.match(f"Ожидаемое время: ≈ {DURATION} \\(40 эпох × 2\u202f000 цифр", expected[0]), expected
    at.button(key="train_start").click().run()
    job = at.session_state["train_job"]
    try:
        assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled
        shown = at.get("progress")  # the bar is there right away, before any batch has finished
        assert shown, "no progress bar after Start"
        assert wait_until(lambda: job.snapshot() is not None)
        at.run()
        text = at.get("progress")[0].proto.text
        assert text.startswith("Эпоха 1/40") and re.search(f"осталось ≈ {DURATION}$", text), text
        assert at.get("plotly_chart"), "no live curve"
    finally:
        at.button(key="train_stop").click().run()
        job.join(60)
    at.run()
    assert job.state == "stopped" and job.stop_reason == "user"
    assert not at.button(key="train_start").disabled  # live again once the run has ended


def test_the_teachers_settings_come_from_the_environment(monkeypatch):
    from lib.ui import server

    assert server.training_setting("max_images") == server.TRAINING_DEFAULTS["max_images"]
    monkeypatch.setenv("CLASSROOM_TRAIN_MAX_IMAGES", "7000000")
    monkeypatch.setenv("CLASSROOM_TRAIN_PARALLEL", "not a number")
    assert server.training_setting("max_images") == 7_000_000
    assert server.training_setting("parallel") == server.TRAINING_DEFAULTS["parallel"]
