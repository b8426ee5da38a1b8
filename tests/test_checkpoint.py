import io
from pathlib import Path

import pytest
import torch

from lib import atomic
from lib import checkpoint as ck
from lib.models import LinearConfig, Table1Autoencoder, Table1Config, build_model, config_from_dict, default_config
from lib.noise import preset

WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def make_ckpt(config=None):
    config = config or Table1Config()
    torch.manual_seed(0)
    model = build_model(config)
    return ck.Checkpoint(
        model_config=config,
        state_dict=model.state_dict(),
        noise=preset("A"),
        train={"lr": 0.003, "batch_size": 32},
        history=[{"epoch": 1.0, "train_loss": 0.02}],
        metrics={"val_psnr": 24.0},
    )


def test_round_trip_keeps_weights_configs_history_and_metrics(tmp_path):
    original = make_ckpt(LinearConfig(hidden=(64, 16)))
    path = ck.save(original, tmp_path / "m.pt")
    loaded = ck.load(path)
    assert loaded.model_config == LinearConfig(hidden=(64, 16))
    assert loaded.noise == preset("A")
    assert loaded.history == original.history and loaded.metrics == {"val_psnr": 24.0}
    x = torch.rand(2, 1, 28, 28)
    ref = build_model(original.model_config)
    ref.load_state_dict(original.state_dict)
    torch.testing.assert_close(loaded.build()(x), ref.eval()(x))
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary file left


def with_former_name(ckpt: ck.Checkpoint) -> bytes:
    """The checkpoint as the app wrote it while the Table 1 model was registered as "seed"."""
    payload = ckpt.to_payload()
    payload["model_config"]["name"] = "seed"
    payload["train_config"]["model"] = "seed"
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def test_a_checkpoint_naming_the_table1_model_seed_loads_as_table1_with_the_same_outputs():
    original = make_ckpt(Table1Config(channels1=16, dropout=0.1))
    loaded = ck.load_bytes(with_former_name(original), "old.pt")
    assert loaded.model_config == Table1Config(channels1=16, dropout=0.1)
    assert loaded.model_config.name == "table1"
    for key, tensor in original.state_dict.items():
        assert torch.equal(loaded.state_dict[key], tensor), key
    x = torch.rand(3, 1, 28, 28)
    ref = build_model(original.model_config)
    ref.load_state_dict(original.state_dict)
    assert torch.equal(loaded.build()(x), ref.eval().to(memory_format=torch.channels_last)(x))
    again = ck.load_bytes(ck.to_bytes(loaded), "again.pt")  # saved again: written under today's name
    assert torch.load(io.BytesIO(ck.to_bytes(again)), weights_only=True)["model_config"]["name"] == "table1"
    assert config_from_dict({"name": "seed", "channels1": 16}) == Table1Config(channels1=16)
    assert default_config("seed") == Table1Config()


def test_a_former_name_still_gets_the_table1_checks():
    bad = make_ckpt(Table1Config(kernel1=6))  # 28 → 8 → … → 27: not a 28×28 output
    with pytest.raises(ck.CheckpointError, match="28×28"):
        ck.load_bytes(with_former_name(bad), "old.pt")


@pytest.mark.parametrize("stem", ["table1_A", "table1_B", "table1_B_aug"])
def test_shipped_table1_weights_load_and_give_the_outputs_of_their_stored_tensors(stem):
    path = WEIGHTS / f"{stem}.pt"
    raw = torch.load(path, weights_only=True)
    loaded = ck.load(path)
    assert loaded.model_config.name == "table1"
    assert loaded.model_config == config_from_dict(raw["model_config"])
    for key, tensor in raw["state_dict"].items():
        assert torch.equal(loaded.state_dict[key], tensor), key
    ref = Table1Autoencoder(loaded.model_config)
    ref.load_state_dict(raw["state_dict"])
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded.build()(x), ref.eval().to(memory_format=torch.channels_last)(x))


def test_corrupt_file_gives_an_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ck.CheckpointError, match="broken.pt.*not a readable"):
        ck.load(path)


def test_truncated_file_is_reported(tmp_path):
    good = ck.to_bytes(make_ckpt())
    path = tmp_path / "cut.pt"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ck.CheckpointError, match="cut.pt"):
        ck.load(path)


def test_weights_that_do_not_fit_the_config_are_reported(tmp_path):
    bad = make_ckpt(Table1Config())
    bad.model_config = LinearConfig()
    path = ck.save(bad, tmp_path / "mismatch.pt")
    with pytest.raises(ck.CheckpointError, match="mismatch.pt: weights do not match model 'linear'"):
        ck.load(path)


def test_plain_state_dict_and_pickled_objects_are_refused(tmp_path):
    torch.save(build_model(Table1Config()).state_dict(), tmp_path / "plain.pt")
    with pytest.raises(ck.CheckpointError, match="plain.pt: not a checkpoint of this app"):
        ck.load(tmp_path / "plain.pt")
    torch.save({"obj": object()}, tmp_path / "pickle.pt")
    with pytest.raises(ck.CheckpointError, match="pickle.pt"):
        ck.load(tmp_path / "pickle.pt")


def test_wrong_format_version_and_missing_file(tmp_path):
    payload = make_ckpt().to_payload() | {"format_version": 99}
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(ck.CheckpointError, match="future.pt: checkpoint format 99"):
        ck.load(tmp_path / "future.pt")
    with pytest.raises(ck.CheckpointError, match="nowhere.pt: file not found"):
        ck.load(tmp_path / "nowhere.pt")


def test_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = ck.save(make_ckpt(), tmp_path / "keep.pt")
    before = path.read_bytes()

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    with pytest.raises(OSError):
        ck.save(make_ckpt(LinearConfig()), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.pt"]  # no temporary file left
