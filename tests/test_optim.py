"""lib.optim against torch.optim: the same Adam updates and one-cycle schedule, without importing torch._dynamo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lib.models import build_model, default_config
from lib.optim import Adam, OneCycle

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("total, warmup", [(37, 0.3), (200, 0.25), (5, 0.5), (2, 0.3)])
def test_one_cycle_matches_torch_scheduler(total: int, warmup: float) -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    reference = torch.optim.Adam([param], lr=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.01, total_steps=total, pct_start=warmup)
    ours = OneCycle(0.01, total, warmup)
    for step in range(total):
        lr, beta1 = ours.at(step)
        assert lr == pytest.approx(reference.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        assert beta1 == pytest.approx(reference.param_groups[0]["betas"][0], rel=1e-12)
        reference.step()
        if step < total - 1:
            scheduler.step()
    with pytest.raises(ValueError):
        ours.at(total)


def _run(model: torch.nn.Module, step_fn, data: torch.Tensor) -> None:
    for batch in data:  # batch: (B, 1, 28, 28)
        loss = torch.nn.functional.mse_loss(model(batch), batch)
        loss.backward()
        step_fn()


@pytest.mark.parametrize("name", ["table1", "bfunet"])
@pytest.mark.parametrize("onecycle", [False, True])
def test_adam_matches_torch_adam(name: str, onecycle: bool) -> None:
    steps = 25
    data = torch.rand(steps, 8, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    # eval mode: the Table 1 model's dropout would otherwise draw different masks in the two runs
    ref_model = build_model(default_config(name), torch.Generator().manual_seed(0)).eval()
    our_model = build_model(default_config(name), torch.Generator().manual_seed(0)).eval()
    ref_opt = torch.optim.Adam(ref_model.parameters(), lr=0.003)
    ref_sched = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=0.003, total_steps=steps) if onecycle else None
    our_opt = Adam(our_model.parameters(), lr=0.003)
    schedule = OneCycle(0.003, steps) if onecycle else None
    if schedule:
        our_opt.lr, our_opt.beta1 = schedule.at(0)
    count = [0]

    def ref_step() -> None:
        ref_opt.step()
        ref_opt.zero_grad()
        if ref_sched and count[0] < steps - 1:
            ref_sched.step()
        count[0] += 1

    def our_step() -> None:
        our_opt.step()
        our_opt.zero_grad()
        our_step.n += 1
        if schedule and our_step.n < steps:
            our_opt.lr, our_opt.beta1 = schedule.at(our_step.n)

    our_step.n = 0
    _run(ref_model, ref_step, data)
    _run(our_model, our_step, data)
    moved = 0.0
    start = build_model(default_config(name), torch.Generator().manual_seed(0)).state_dict()
    for (key, ref), ours in zip(ref_model.state_dict().items(), our_model.state_dict().values(), strict=True):
        torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6, msg=key)
        moved = max(moved, (ref - start[key]).abs().max().item())
    assert moved > 1e-3  # the comparison is about real updates, not two untouched models


def test_parameter_without_gradient_is_left_alone() -> None:
    used, unused = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt = Adam([used, unused], lr=0.1)
    (used * torch.tensor([1.0, -2.0, 0.0])).sum().backward()
    opt.step()
    assert torch.equal(unused, torch.ones(3))
    assert used[0] < 1.0 and used[1] > 1.0 and used[2] == 1.0
    assert opt.steps == [1, 0]
    opt.zero_grad(set_to_none=False)
    assert torch.equal(used.grad, torch.zeros(3))
    opt.zero_grad()
    assert used.grad is None


def test_training_does_not_import_dynamo() -> None:
    """A server's first training must not pull in torch._dynamo (about 150 MB held for good)."""
    code = (
        "import sys\n"
        "from lib.data import load_split\n"
        "from lib.noise import preset\n"
        "from lib.train import TrainConfig, train\n"
        "digits = load_split('test')\n"
        "train(TrainConfig(epochs=1, limit=64, schedule='onecycle', stop_loss=0.0), preset('B'), digits)\n"
        "assert 'torch._dynamo' not in sys.modules, 'torch._dynamo was imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
