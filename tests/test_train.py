import threading

import pytest
import torch

from lib.data import Digits
from lib.noise import make_generator, preset
from lib.train import CLASSROOM, FAST, TEXTBOOK, Progress, TrainConfig, batch_noise, history_csv, recipe, train


def small(train_digits, n=512):
    return Digits(train_digits.images[:n], train_digits.labels[:n])


def val(train_digits):
    return Digits(train_digits.images[-200:], train_digits.labels[-200:])


def test_callback_reports_steps_epochs_and_validation_psnr(train_digits):
    seen: list[Progress] = []
    cfg = TrainConfig(epochs=2, batch_size=64, stop_loss=0.0)
    result = train(cfg, preset("B"), small(train_digits), val(train_digits), callback=seen.append, report_every=2)
    epoch_reports = [p for p in seen if p.epoch_done]
    assert [p.epoch for p in epoch_reports] == [1, 2]
    assert all(0 < p.fraction <= 1 for p in seen)
    assert seen[-1].fraction == pytest.approx(1.0)
    assert {"val_psnr", "val_psnr_gaussian", "val_psnr_speckle"} <= set(result.history[-1])
    assert result.history[1]["val_psnr"] > result.history[0]["val_psnr"] - 1.0
    assert result.metrics["val_psnr"] == result.history[-1]["val_psnr"]
    csv = history_csv(result.history)
    assert csv.splitlines()[0].startswith("epoch,images,train_loss,val_psnr")
    assert len(csv.splitlines()) == 3


def test_same_seed_gives_the_same_weights(train_digits):
    cfg = TrainConfig(epochs=1, batch_size=64, seed=5)
    a = train(cfg, preset("A"), small(train_digits, 256))
    b = train(cfg, preset("A"), small(train_digits, 256))
    c = train(TrainConfig(epochs=1, batch_size=64, seed=6), preset("A"), small(train_digits, 256))
    for k in a.state_dict:
        assert torch.equal(a.state_dict[k], b.state_dict[k])
    assert not all(torch.equal(a.state_dict[k], c.state_dict[k]) for k in a.state_dict)


def test_stop_flag_ends_training_early(train_digits):
    stop = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.step >= 2:
            stop.set()

    result = train(
        TrainConfig(epochs=5, batch_size=32),
        preset("B"),
        small(train_digits),
        callback=on_progress,
        stop_event=stop,
        report_every=1,
    )
    assert len(result.history) == 1
    assert result.train["stopped_by_user"] is True


def test_early_stop_on_the_loss_criterion(train_digits):
    result = train(TrainConfig(epochs=10, batch_size=64, stop_loss=1.0), preset("B"), small(train_digits, 128))
    assert len(result.history) == 1  # the first epoch's loss is already below 1.0


def test_frozen_noise_and_onecycle_train(train_digits):
    cfg = TrainConfig(epochs=2, batch_size=64, fresh_noise=False, schedule="onecycle", model="linear", stop_loss=0.0)
    result = train(cfg, preset("B"), small(train_digits, 256), val(train_digits))
    assert len(result.history) == 2
    assert result.model_config.name == "linear"
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


@pytest.mark.parametrize("bad", [{"epochs": 0}, {"lr": 0.0}, {"batch_size": 0}, {"limit": 0}, {"schedule": "cosine"}])
def test_bad_training_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_training_never_touches_the_global_rng(train_digits):
    torch.manual_seed(11)
    expected = torch.rand(4)
    torch.manual_seed(11)
    train(TrainConfig(epochs=1, batch_size=64, seed=3), preset("B"), small(train_digits, 128))
    assert torch.equal(torch.rand(4), expected)


def test_parallel_trainings_equal_sequential_ones(train_digits):
    data = small(train_digits, 256)
    configs = [TrainConfig(epochs=1, batch_size=32, seed=s) for s in (1, 2)]
    sequential = [train(c, preset("B"), data) for c in configs]
    results: dict[int, object] = {}

    def run(i: int) -> None:
        results[i] = train(configs[i], preset("B"), data)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(2):
        for key, value in sequential[i].state_dict.items():
            assert torch.equal(results[i].state_dict[key], value), key


def test_a_stop_mid_epoch_is_reported_as_a_partial_epoch(train_digits):
    """Stopped at batch 3 of 8 in epoch 2: 1.38 epochs and 768 images, no row claiming a second epoch."""
    stop = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.epoch == 2 and p.step == 3:
            stop.set()

    cfg = TrainConfig(epochs=5, batch_size=64, stop_loss=0.0)
    result = train(cfg, preset("B"), small(train_digits), val(train_digits), "cpu", on_progress, stop, report_every=1)
    assert [row["epoch"] for row in result.history] == [1.0, 1.38]  # 1 + 3/8
    assert [row["images"] for row in result.history] == [512.0, 512.0 + 3 * 64]
    assert result.train["epochs_run"] == 1.38 and result.train["images_seen"] == 704
    assert "val_psnr" in result.history[-1]  # the validation point of the model as it was stopped
    rows = history_csv(result.history).splitlines()
    assert rows[0].startswith("epoch,images,") and rows[2].startswith("1.38,704,")
    assert not any(line.startswith("2,") for line in rows)


def test_a_finished_run_reports_whole_epochs_and_throughput(train_digits):
    seen: list[Progress] = []
    result = train(TrainConfig(epochs=2, batch_size=64, stop_loss=0.0), preset("B"), small(train_digits, 256),
                   callback=seen.append, report_every=1)  # fmt: skip
    assert [row["epoch"] for row in result.history] == [1.0, 2.0]
    assert result.train["epochs_run"] == 2.0 and result.train["images_seen"] == 512
    assert result.train["images_per_s"] > 0 and all(row["images_per_s"] > 0 for row in result.history)
    last = seen[-1]
    assert last.epoch_done and last.images == 512 and last.epochs_done == 2.0
    assert last.images_per_second == pytest.approx(512 / last.train_seconds)
    assert last.epoch_seconds == pytest.approx(last.elapsed / 2)
    mid = next(p for p in seen if p.epoch == 1 and p.step == 2)
    assert mid.images == 128 and mid.epochs_done == 0.5


def test_each_report_carries_its_batch_loss_and_the_running_mean_is_their_mean(train_digits):
    seen: list[Progress] = []
    train(TrainConfig(epochs=2, batch_size=64, stop_loss=0.0), preset("B"), small(train_digits, 256),
          callback=seen.append, report_every=1)  # fmt: skip
    for epoch in (1, 2):
        batches = [p for p in seen if p.epoch == epoch and not p.epoch_done]
        assert [p.step for p in batches] == [1, 2, 3, 4]
        for i, p in enumerate(batches, start=1):
            assert p.loss == pytest.approx(sum(q.batch_loss for q in batches[:i]) / i, rel=1e-5)
        end = next(p for p in seen if p.epoch == epoch and p.epoch_done)
        assert end.batch_loss == batches[-1].batch_loss  # the epoch's report repeats its last batch


@pytest.mark.parametrize("kind", ["gaussian", "speckle", "mix"])
def test_batch_noise_matches_the_textbook_formulas(train_digits, kind):
    from lib.noise import gaussian, mix_mask, speckle

    clean = train_digits.images[:64].float()  # (64, 28, 28) 0..255
    noise = preset("B").with_kind(kind)
    got = batch_noise(clean, noise, make_generator(7))
    ref_g = make_generator(7)
    mask = mix_mask(64, ref_g) if kind == "mix" else torch.full((64,), kind == "gaussian")
    state = ref_g.get_state()  # both branches see the same normal draw, as in batch_noise
    g_branch = gaussian(clean, noise.mean, noise.var, ref_g)
    ref_g.set_state(state)
    s_branch = speckle(clean, noise.speckle, ref_g)
    expected = torch.where(mask.view(-1, 1, 1), g_branch, s_branch).clamp(0, 255)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-4)
    if kind == "mix":
        assert int(mask.sum()) == 32  # exactly half Gaussian, like lib.noise.add_noise


def test_recipes_fast_and_textbook():
    assert recipe("textbook") == TrainConfig()
    assert (TEXTBOOK.lr, TEXTBOOK.batch_size, TEXTBOOK.stop_loss, TEXTBOOK.epochs) == (0.003, 32, 0.0063, 120)
    assert FAST.schedule == "onecycle" and FAST.stop_loss == 0.0 and FAST.batch_size > TEXTBOOK.batch_size
    assert recipe("fast", epochs=5).epochs == 5
    assert CLASSROOM.batch_size < FAST.batch_size and CLASSROOM.schedule == "onecycle"
    with pytest.raises(ValueError, match="unknown recipe"):
        recipe("quick")
    with pytest.raises(ValueError, match="warm-up"):
        TrainConfig(warmup=1.0)
