"""Adam and the one-cycle schedule in plain tensor operations, equal to torch.optim's up to rounding.

Why not torch.optim: its optimizers import torch._dynamo (and with it sympy) on first use, about 150 MB that
a classroom server would then hold for good after its first training. The update rules below are
torch.optim.Adam's (in its foreach form) and torch.optim.lr_scheduler.OneCycleLR's (cosine, momentum cycled
through Adam's β₁); tests/test_optim.py checks both against torch step by step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class OneCycle:
    """Learning rate and β₁ per step: warm up from max_lr/div to max_lr, then anneal to max_lr/div/final_div."""

    max_lr: float
    total_steps: int
    warmup: float = 0.3  # share of the steps spent warming up
    div: float = 25.0
    final_div: float = 1e4
    beta1_low: float = 0.85  # β₁ while the learning rate is highest
    beta1_high: float = 0.95

    def __post_init__(self) -> None:
        if self.total_steps < 1:
            raise ValueError("the schedule needs at least one step")

    @staticmethod
    def _cos(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)

    def at(self, step: int) -> tuple[float, float]:
        """(learning rate, β₁) for the 0-based optimizer step `step`."""
        if not 0 <= step < self.total_steps:
            raise ValueError(f"step {step} is outside the schedule's {self.total_steps} steps")
        initial = self.max_lr / self.div
        peak_end = float(self.warmup * self.total_steps) - 1.0  # the step at which the rate peaks
        last = float(self.total_steps - 1)
        if step <= peak_end:
            pct = step / peak_end if peak_end > 0 else 0.0  # a one-step warm-up starts at its peak
            return self._cos(initial, self.max_lr, pct), self._cos(self.beta1_high, self.beta1_low, pct)
        pct = (step - peak_end) / (last - peak_end)
        return (
            self._cos(self.max_lr, initial / self.final_div, pct),
            self._cos(self.beta1_low, self.beta1_high, pct),
        )


class Adam:
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam computes it without weight decay."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.steps = [0] * len(self.params)  # per parameter: one without a gradient does not advance

    @torch.no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient, a handful of whole-list operations at a time.

        The list (foreach) form matters in the app: every tensor operation hands Python's lock to another
        thread, and a training beside 30 students' page runs waits to get it back after each one.
        """
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        for i in live:
            self.steps[i] += 1
        for t in sorted({self.steps[i] for i in live}):  # one group unless some parameter skipped steps
            group = [i for i in live if self.steps[i] == t]
            params = [self.params[i] for i in group]
            grads = [self.params[i].grad for i in group]
            exp_avg = [self.exp_avg[i] for i in group]
            exp_avg_sq = [self.exp_avg_sq[i] for i in group]
            torch._foreach_lerp_(exp_avg, grads, 1.0 - self.beta1)
            torch._foreach_mul_(exp_avg_sq, self.beta2)
            torch._foreach_addcmul_(exp_avg_sq, grads, grads, value=1.0 - self.beta2)
            denom = torch._foreach_sqrt(exp_avg_sq)
            torch._foreach_div_(denom, math.sqrt(1.0 - self.beta2**t))
            torch._foreach_add_(denom, self.eps)
            torch._foreach_addcdiv_(params, exp_avg, denom, value=-self.lr / (1.0 - self.beta1**t))

    def state_dict(self) -> dict:
        """The moments, step counts and current lr/beta1 (plain tensors and numbers: torch.save-able)."""
        return {"exp_avg": [m.detach().cpu().clone() for m in self.exp_avg],
                "exp_avg_sq": [v.detach().cpu().clone() for v in self.exp_avg_sq],
                "steps": list(self.steps), "lr": self.lr, "beta1": self.beta1}  # fmt: skip

    @torch.no_grad()
    def load_state_dict(self, state: dict) -> None:
        """Continue from `state_dict()`'s output (same parameters in the same order)."""
        if len(state["exp_avg"]) != len(self.params):
            raise ValueError("optimiser state is for a different set of parameters")
        for mine, saved in zip(self.exp_avg + self.exp_avg_sq, list(state["exp_avg"]) + list(state["exp_avg_sq"])):
            mine.copy_(saved)
        self.steps = [int(k) for k in state["steps"]]
        self.lr, self.beta1 = float(state["lr"]), float(state["beta1"])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (drop them, or zero them in place)."""
        for p in self.params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()
