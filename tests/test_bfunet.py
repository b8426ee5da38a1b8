"""The modern denoiser: a bias-free residual U-Net (registry name 'bfunet')."""

import numpy as np
import pytest
import torch
from torch import nn

from lib import checkpoint as ck
from lib.data import train_val_split
from lib.inference import cleaned
from lib.metrics import psnr
from lib.models import BiasFreeUNetConfig, build_model, config_from_dict, config_to_dict, count_parameters
from lib.noise import make_generator, preset
from lib.train import TrainConfig, train


def expected_parameters(c: int) -> int:
    """Conv weights only, counted by hand from the architecture (no biases anywhere)."""
    conv = lambda cin, cout: 9 * cin * cout  # noqa: E731
    enc1 = conv(1, c) + conv(c, c)
    enc2 = conv(c, 2 * c) + conv(2 * c, 2 * c)
    bottom = conv(2 * c, 4 * c) + 2 * conv(4 * c, 4 * c)
    up2 = 4 * c * 2 * c * 4  # ConvTranspose2d(4c → 2c, k=2)
    dec2 = 2 * conv(2 * c, 2 * c)
    up1 = 2 * c * c * 4
    dec1 = conv(c, c) + conv(c, 1)
    return enc1 + enc2 + bottom + up2 + dec2 + up1 + dec1


@pytest.mark.parametrize("width", [4, 24])
def test_shapes_and_parameter_count(width):
    model = build_model(BiasFreeUNetConfig(width=width), make_generator(0)).eval()
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        out = model(x)
        maps = dict(model.feature_maps(x))
    assert out.shape == (3, 1, 28, 28) and 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    assert count_parameters(model) == expected_parameters(width)
    shapes = {k: tuple(v.shape[1:]) for k, v in maps.items()}
    c = width
    assert shapes == {"enc1": (c, 28, 28), "enc2": (2 * c, 14, 14), "bottom": (4 * c, 7, 7), "up2": (2 * c, 14, 14),
                      "dec2": (2 * c, 14, 14), "up1": (c, 28, 28), "dec1": (1, 28, 28), "output": (1, 28, 28)}  # fmt: skip
    torch.testing.assert_close(maps["output"], out)


def test_shipped_width_fits_two_megabytes():
    model = build_model(BiasFreeUNetConfig())
    assert count_parameters(model) * 4 < 2 * 1024 * 1024


def test_no_biases_and_no_batchnorm():
    model = build_model(BiasFreeUNetConfig(width=8))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert all(m.bias is None for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d))


def test_noise_estimate_is_scale_equivariant():
    """Bias-free: the estimated noise of α·y is α times that of y (a grey stroke stays grey)."""
    model = build_model(BiasFreeUNetConfig(width=8), make_generator(1)).eval()
    y = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        base = dict(model.feature_maps(y))["dec1"]
        for alpha in (0.3, 0.7, 2.0):
            torch.testing.assert_close(dict(model.feature_maps(alpha * y))["dec1"], alpha * base, rtol=1e-4, atol=1e-6)


def test_black_in_black_out():
    model = build_model(BiasFreeUNetConfig(width=8), make_generator(2)).eval()
    with torch.no_grad():
        assert float(model(torch.zeros(1, 1, 28, 28)).abs().max()) == 0.0


def test_config_round_trip():
    cfg = BiasFreeUNetConfig(width=12)
    assert config_from_dict(config_to_dict(cfg)) == cfg


@pytest.fixture(scope="module")
def tiny_pair(train_digits):
    """A width-4 U-Net and a Table 1 model trained identically for a few hundred augmented digits."""
    tr, _ = train_val_split(train_digits, 100)
    out = {}
    for name, cfg in (("bfunet", BiasFreeUNetConfig(width=4)), ("table1", None)):
        config = TrainConfig(model=name, epochs=2, limit=768, batch_size=32, lr=0.003, stop_loss=0, augment=True)
        out[name] = train(config, preset("B"), tr, model_config=cfg)
    return out


def test_trained_tiny_unet_hands_clean_digits_back_almost_unchanged(tiny_pair, test_digits, tmp_path):
    path = ck.save(tiny_pair["bfunet"], tmp_path / "tiny.pt")
    model = ck.load(path).build()  # the one path the app, CLI and evaluation share
    clean = test_digits.images[:200].float().numpy() / 255.0
    unet = float(psnr(clean, cleaned(model, clean)).mean())
    table1 = float(psnr(clean, cleaned(tiny_pair["table1"].build(), clean)).mean())
    assert unet > 26.0  # the residual design returns the input unless it finds noise
    assert unet > table1 + 8.0  # the Table 1 model redraws the digit from its 6×6 code


def test_trained_tiny_unet_removes_noise(tiny_pair, test_digits):
    from lib.evaluate import evaluate_model, evaluate_noisy, noisy_test_set

    model = tiny_pair["bfunet"].build()
    data = noisy_test_set(test_digits, preset("B"), "speckle", limit=200)
    assert evaluate_model(model, data)["psnr"] > evaluate_noisy(data)["psnr"] + 1.0
    assert tiny_pair["bfunet"].train["augment"] is True


def test_cleaned_keeps_single_image_shape(tiny_pair):
    model = tiny_pair["bfunet"].build()
    out = cleaned(model, np.zeros((28, 28), np.float32))
    assert out.shape == (28, 28) and float(np.abs(out).max()) == 0.0
