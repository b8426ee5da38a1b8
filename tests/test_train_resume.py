"""Resuming a training from its per-epoch state gives the weights an uninterrupted run gives (same seed)."""

from __future__ import annotations

import io

import pytest
import torch

from lib.data import train_val_split
from lib.noise import NoiseConfig
from lib.optim import Adam
from lib.train import recipe, train


@pytest.mark.parametrize("fresh_noise", [True, False])
def test_resume_after_an_epoch_matches_the_uninterrupted_run(train_digits, fresh_noise):
    config = recipe("classroom", epochs=3, limit=256, batch_size=64, val_size=100, seed=5, fresh_noise=fresh_noise)
    train_part, val_part = train_val_split(train_digits, 100)
    noise = NoiseConfig()
    states: list[dict] = []
    whole = train(config, noise, train_part, val_part, on_epoch_state=states.append)
    assert [s["epoch"] for s in states] == [1, 2, 3]
    # the state goes through bytes as the store keeps it, and loads with weights_only
    buffer = io.BytesIO()
    torch.save(states[0], buffer)
    saved = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    resumed = train(config, noise, train_part, val_part, resume=saved)
    assert [row["epoch"] for row in resumed.history] == [1.0, 2.0, 3.0]
    for key, value in whole.state_dict.items():
        torch.testing.assert_close(resumed.state_dict[key], value, rtol=0, atol=0)
    assert resumed.history[-1]["val_psnr"] == whole.history[-1]["val_psnr"]
    assert resumed.train["images_seen"] == whole.train["images_seen"]


def test_adam_state_round_trip_continues_identically():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = Adam(a.parameters(), lr=0.01), Adam(b.parameters(), lr=0.01)
    x = torch.randn(8, 4)
    for _ in range(3):
        opt_a.zero_grad()
        a(x).square().mean().backward()
        opt_a.step()
    b.load_state_dict(a.state_dict())
    opt_b.load_state_dict(opt_a.state_dict())
    for model, opt in ((a, opt_a), (b, opt_b)):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    torch.testing.assert_close(a.weight, b.weight, rtol=0, atol=0)
    with pytest.raises(ValueError):
        Adam(torch.nn.Linear(2, 2, bias=False).parameters(), lr=0.1).load_state_dict(opt_a.state_dict())
