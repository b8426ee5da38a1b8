"""Model registry: the textbook's convolutional autoencoder (Table 1) and a fully connected one."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from lib.model_names import canonical_model


@dataclass(frozen=True)
class Table1Config:
    """Table 1 / Appendix 1: two conv layers down (28→8→6), two transposed convs up (6→8→28)."""

    name: str = "table1"
    channels1: int = 32
    channels2: int = 64
    kernel1: int = 7
    stride1: int = 3
    kernel2: int = 3
    dropout: float = 0.2


@dataclass(frozen=True)
class LinearConfig:
    """Fully connected autoencoder of section 5: 784 → 256 → 128 → 64 → 128 → 256 → 784."""

    name: str = "linear"
    hidden: tuple[int, ...] = (256, 128, 64)


class Dropout(nn.Dropout):
    """nn.Dropout that draws its masks from `generator` when one is set; without one it is nn.Dropout."""

    # Trainings running in parallel threads must not share (or reset) the global RNG.

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or self.generator is None:
            return super().forward(x)
        return x * keep_mask(x, self.p, self.generator)


def keep_mask(x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Dropout's scaled mask for x: 0 with probability p, else 1/(1-p); same shape and strides as x.

    On CPU a Bernoulli draw per element (bernoulli_) costs more than the model's convolutions, so each
    64-bit random word gives four 16-bit uniforms compared with round(p·65536): p is met to within 1/65536.
    """
    dense = x.is_contiguous() or (x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last))
    if generator.device.type != "cpu" or not dense:
        return torch.empty_like(x).bernoulli_(1.0 - p, generator=generator).mul_(1.0 / (1.0 - p))
    n = x.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), None, generator=generator)
    lanes = words.view(torch.int16)[:n]  # (n,) uniform over −32768 … 32767
    keep = (lanes >= -32768 + round(p * 65536)).to(x.dtype).mul_(1.0 / (1.0 - p))
    return keep.as_strided(x.shape, x.stride())  # i.i.d. values, so any layout is as random as another


def init_weights(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """PyTorch's default init (U(±1/√fan_in) for conv/linear weights and biases), drawn from `generator`."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                bound = 1.0 / math.sqrt(fan_in)
                module.weight.uniform_(-bound, bound, generator=generator)
                if module.bias is not None:
                    module.bias.uniform_(-bound, bound, generator=generator)
    return model


def set_dropout_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Make every Dropout of the model draw from `generator` (None: the global RNG)."""
    for module in model.modules():
        if isinstance(module, Dropout):
            module.generator = generator


class Table1Autoencoder(nn.Module):
    """The textbook's denoising_model; attribute names kept so its saved state_dict loads as is."""

    def __init__(self, config: Table1Config) -> None:
        super().__init__()
        c1, c2, p = config.channels1, config.channels2, config.dropout
        # Appendix 1 order: Conv → ReLU → BatchNorm → Dropout.
        self.layer1 = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=config.kernel1, stride=config.stride1),
            nn.ReLU(),
            nn.BatchNorm2d(c1),
            Dropout(p),
        )
        self.layer2 = nn.Sequential(
            nn.Conv2d(c1, c2, kernel_size=config.kernel2, stride=1), nn.ReLU(), nn.BatchNorm2d(c2), Dropout(p)
        )
        self.layer02 = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, kernel_size=config.kernel2, stride=1),
            nn.ReLU(),
            nn.BatchNorm2d(c1),
            Dropout(p),
        )
        self.layer01 = nn.Sequential(
            nn.ConvTranspose2d(c1, 1, kernel_size=config.kernel1, stride=config.stride1), nn.Sigmoid()
        )

    def stages(self) -> list[tuple[str, nn.Module]]:
        """The four layers in forward order, for feature-map views."""
        return [("layer1", self.layer1), ("layer2", self.layer2), ("layer02", self.layer02), ("layer01", self.layer01)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28) in [0, 1]
        out = self.layer1(x)  # (B, 32, 8, 8)
        out = self.layer2(out)  # (B, 64, 6, 6)
        out = self.layer02(out)  # (B, 32, 8, 8)
        return self.layer01(out)  # (B, 1, 28, 28)


class LinearAutoencoder(nn.Module):
    """Fully connected denoiser: flattens the 28×28 image, no convolutions."""

    def __init__(self, config: LinearConfig) -> None:
        super().__init__()
        sizes = [28 * 28, *config.hidden]
        enc: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            enc += [nn.Linear(a, b), nn.ReLU()]
        dec: list[nn.Module] = []
        back = sizes[::-1]
        for i, (a, b) in enumerate(zip(back[:-1], back[1:])):
            dec += [nn.Linear(a, b), nn.Sigmoid() if i == len(back) - 2 else nn.ReLU()]
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def stages(self) -> list[tuple[str, nn.Module]]:
        """Encoder and decoder, for feature views."""
        return [("encoder", self.encoder), ("decoder", self.decoder)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28)
        code = self.encoder(x.flatten(1))  # (B, 64)
        return self.decoder(code).view(-1, 1, 28, 28)  # (B, 1, 28, 28)


@dataclass(frozen=True)
class BiasFreeUNetConfig:
    """A small bias-free residual U-Net: 28×28 → 14×14 → 7×7 and back, additive skips, no biases, no BatchNorm."""

    name: str = "bfunet"
    width: int = 24  # channels at 28×28; twice that at 14×14, four times at 7×7


def _bias_free_block(c_in: int, c_out: int, n: int, stride: int = 1) -> nn.Sequential:
    """n bias-free 3×3 convolutions with ReLU; the first one may stride by 2."""
    layers: list[nn.Module] = []
    for i in range(n):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, stride=stride if i == 0 else 1, padding=1,
                             bias=False), nn.ReLU()]  # fmt: skip
    return nn.Sequential(*layers)


class BiasFreeUNet(nn.Module):
    """Estimates the noise and subtracts it from the input (residual), so the digit is never redrawn.

    No biases and no BatchNorm mean shift anywhere: the network is a product of piecewise-linear maps,
    so f(αy) = αf(y) (a grey stroke stays grey) and a black input gives a black output.
    """

    def __init__(self, config: BiasFreeUNetConfig) -> None:
        super().__init__()
        c = config.width
        self.enc1 = _bias_free_block(1, c, 2)  # 28×28
        self.enc2 = _bias_free_block(c, 2 * c, 2, stride=2)  # 14×14
        self.bottom = _bias_free_block(2 * c, 4 * c, 3, stride=2)  # 7×7
        self.up2 = nn.Sequential(nn.ConvTranspose2d(4 * c, 2 * c, 2, stride=2, bias=False))  # 7 → 14
        self.dec2 = _bias_free_block(2 * c, 2 * c, 2)
        self.up1 = nn.Sequential(nn.ConvTranspose2d(2 * c, c, 2, stride=2, bias=False))  # 14 → 28
        self.dec1 = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, bias=False), nn.ReLU(), nn.Conv2d(c, 1, 3, padding=1, bias=False)
        )

    def stages(self) -> list[tuple[str, nn.Module]]:
        """The blocks in forward order (the skips add enc2 to up2's output and enc1 to up1's)."""
        return [("enc1", self.enc1), ("enc2", self.enc2), ("bottom", self.bottom), ("up2", self.up2),
                ("dec2", self.dec2), ("up1", self.up1), ("dec1", self.dec1)]  # fmt: skip

    def feature_maps(self, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """Every block's output and the final image, for the Inside page: [(name, (B, C, H, W)), …]."""
        e1 = self.enc1(x)  # (B, c, 28, 28)
        e2 = self.enc2(e1)  # (B, 2c, 14, 14)
        b = self.bottom(e2)  # (B, 4c, 7, 7)
        u2 = self.up2(b)  # (B, 2c, 14, 14)
        d2 = self.dec2(u2 + e2)  # (B, 2c, 14, 14)
        u1 = self.up1(d2)  # (B, c, 28, 28)
        noise = self.dec1(u1 + e1)  # (B, 1, 28, 28): the estimated noise
        out = (x - noise).clamp(0.0, 1.0)  # (B, 1, 28, 28)
        return [("enc1", e1), ("enc2", e2), ("bottom", b), ("up2", u2), ("dec2", d2), ("up1", u1),
                ("dec1", noise), ("output", out)]  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 28, 28) in [0, 1]
        e1 = self.enc1(x)  # (B, c, 28, 28)
        e2 = self.enc2(e1)  # (B, 2c, 14, 14)
        d2 = self.dec2(self.up2(self.bottom(e2)) + e2)  # (B, 2c, 14, 14); bottom is (B, 4c, 7, 7)
        noise = self.dec1(self.up1(d2) + e1)  # (B, 1, 28, 28)
        return (x - noise).clamp(0.0, 1.0)  # (B, 1, 28, 28)


@dataclass(frozen=True)
class ModelSpec:
    """How to build one registered model from its config."""

    config_cls: type
    build: Callable[[Any], nn.Module]
    description: str


REGISTRY: dict[str, ModelSpec] = {
    "table1": ModelSpec(Table1Config, Table1Autoencoder, "Table 1 convolutional autoencoder"),
    "linear": ModelSpec(LinearConfig, LinearAutoencoder, "fully connected autoencoder (section 5)"),
    "bfunet": ModelSpec(BiasFreeUNetConfig, BiasFreeUNet, "bias-free residual U-Net (modern denoiser)"),
}


def default_config(name: str) -> Any:
    """The default config dataclass of a registered model (a former name is accepted)."""
    name = canonical_model(name)
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(REGISTRY)}")
    return REGISTRY[name].config_cls()


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain dict of a model config (tuples kept) for checkpoints."""
    return asdict(config)


def config_from_dict(data: dict[str, Any]) -> Any:
    """Rebuild a model config from a checkpoint dict, rejecting unknown fields; a former name gives today's."""
    name = canonical_model(data.get("name"))
    if name not in REGISTRY:
        raise ValueError(f"unknown model {name!r}; registered: {', '.join(REGISTRY)}")
    cls = REGISTRY[name].config_cls
    known = {f.name for f in fields(cls)}
    extra = set(data) - known
    if extra:
        raise ValueError(f"model config has unknown fields: {sorted(extra)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values | {"name": name})


def build_model(config: Any, generator: torch.Generator | None = None) -> nn.Module:
    """Instantiate the model a config describes; with a generator, its weights come from it alone."""
    if generator is None:
        return REGISTRY[config.name].build(config)
    with torch.device("meta"):  # constructors would otherwise draw their init from the global RNG
        model = REGISTRY[config.name].build(config)
    model = model.to_empty(device="cpu")
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_parameters()  # weight 1, bias 0, running mean 0, var 1: no randomness
    return init_weights(model, generator)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
