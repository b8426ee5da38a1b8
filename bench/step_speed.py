"""Per-image cost of one training step of the Table 1 model on this CPU, lead by lead (min over repeats).

Run: python -m bench.step_speed --json bench/results_step_speed.json
Each variant changes one thing against the trainer as shipped (channels-last, the fast dropout mask,
one normal draw per pixel for the noise); the layer rows time forward + backward of the last layer alone.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bench import report
from bench.conv_phases import conv_transpose_as_conv
from lib.data import load_split
from lib.models import Table1Autoencoder, Table1Config, set_dropout_generator
from lib.noise import add_noise, make_generator, preset, to_unit
from lib.train import batch_noise


def best_ms(fn: Callable[[], object], calls: int, rounds: int = 7, warm: int = 3) -> float:
    """Fastest mean time of `calls` calls over `rounds` rounds, in ms (other load only ever adds time)."""
    for _ in range(warm):
        fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls * 1000)
    return best


class Plain(nn.Module):
    """Layer-1..4 of the Table 1 model with the last layer computed as a convolution + pixel shuffle."""

    def __init__(self, model: Table1Autoencoder) -> None:
        super().__init__()
        self.m = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.m
        out = m.layer02(m.layer2(m.layer1(x)))  # (B, 32, 8, 8)
        last = m.layer01[0]
        return torch.sigmoid(conv_transpose_as_conv(out, last.weight, last.bias, last.stride[0]))


def step_fn(batch: int, *, channels_last=True, fast_dropout=True, reparam=False, noise="batch", adam=None,
            bf16=False, images=None) -> Callable[[], None]:  # fmt: skip
    """One training step (noise, forward, MSE, backward, Adam) with the given variant."""
    g = make_generator(0)
    model = Table1Autoencoder(Table1Config())
    if fast_dropout:
        set_dropout_generator(model, g)
    else:
        set_dropout_generator(model, None)  # nn.Dropout's own bernoulli_ path (global RNG)
    net: nn.Module = Plain(model) if reparam else model
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=fmt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, **(adam or {}))
    clean = images[:batch].float()  # (B, 28, 28) 0..255
    cfg = preset("B")
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    def step() -> None:
        noisy = batch_noise(clean, cfg, g) if noise == "batch" else add_noise(clean, cfg, g)
        x = to_unit(noisy).unsqueeze(1).contiguous(memory_format=fmt)  # (B, 1, 28, 28)
        with ctx:
            out = net(x)
        loss = F.mse_loss(out.float(), to_unit(clean).unsqueeze(1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def layer_rows(batch: int) -> dict[str, float]:
    """Forward + backward of ConvTranspose2d(32→1, k7, s3) alone, several ways."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 32, 8, 8, generator=g)
    layer = nn.ConvTranspose2d(32, 1, 7, 3)
    xcl = x.contiguous(memory_format=torch.channels_last)
    layer_cl = nn.ConvTranspose2d(32, 1, 7, 3).to(memory_format=torch.channels_last)

    def run(fn, inp):
        inp = inp.detach().requires_grad_()
        return lambda: fn(inp).sum().backward()

    rows = {
        "conv_transpose default layout": best_ms(run(layer, x), 20),
        "conv_transpose channels_last": best_ms(run(layer_cl, xcl), 20),
        "conv2d(32→9, k3) + pixel_shuffle(3) + crop": best_ms(
            run(lambda v: conv_transpose_as_conv(v, layer.weight, layer.bias, 3), x), 20
        ),
        "conv2d + pixel_shuffle, channels_last": best_ms(
            run(lambda v: conv_transpose_as_conv(v, layer.weight, layer.bias, 3), xcl), 20
        ),
    }
    with torch.backends.mkldnn.flags(enabled=False):
        rows["conv_transpose with oneDNN off"] = best_ms(run(layer, x), 20)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images = load_split("train").images[:256]
    variants: dict[str, dict] = {
        "as shipped (channels_last, fast dropout mask, one normal per pixel)": {},
        "nn.Dropout's bernoulli_ mask": {"fast_dropout": False},
        "default (NCHW) layout": {"channels_last": False},
        "noise via add_noise (two normal draws per pixel)": {"noise": "add_noise"},
        "last layer as conv2d + pixel_shuffle": {"reparam": True},
        "Adam fused": {"adam": {"fused": True}},
        "Adam foreach": {"adam": {"foreach": True}},
        "bf16 autocast": {"bf16": True},
    }
    result: dict[str, object] = {"threads": torch.get_num_threads(), "unit": "µs per image", "steps": {}}
    for batch in args.batches:
        calls = max(10, 1280 // batch)
        rows = {}
        for name, kw in variants.items():
            rows[name] = best_ms(step_fn(batch, images=images, **kw), calls) * 1000 / batch
            print(f"batch {batch:>4}  {rows[name]:7.1f} µs/image  {name}", flush=True)
        with torch.backends.mkldnn.flags(enabled=False):
            rows["oneDNN off"] = best_ms(step_fn(batch, images=images), calls) * 1000 / batch
        torch.set_flush_denormal(True)
        rows["flush denormals"] = best_ms(step_fn(batch, images=images), calls) * 1000 / batch
        torch.set_flush_denormal(False)
        for name in ("oneDNN off", "flush denormals"):
            print(f"batch {batch:>4}  {rows[name]:7.1f} µs/image  {name}", flush=True)
        result["steps"][str(batch)] = rows
    result["last_layer_ms_batch_128"] = layer_rows(128)
    for name, ms in result["last_layer_ms_batch_128"].items():
        print(f"layer  {ms:6.2f} ms  {name}", flush=True)
    report(result, args.json)


if __name__ == "__main__":
    main()
