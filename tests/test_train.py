import threading

import pytest
import torch

from lib.data import Digits
from lib.noise import preset
from lib.train import Progress, TrainConfig, history_csv, train


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
    assert csv.splitlines()[0].startswith("epoch,train_loss,val_psnr")
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
