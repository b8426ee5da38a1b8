import pytest
import torch

from lib.noise import PRESETS, NoiseConfig, add_noise, gaussian, make_generator, mix_mask, preset, speckle


def test_gaussian_adds_noise_with_the_requested_mean_and_variance():
    x = torch.full((200, 28, 28), 100.0)
    noise = gaussian(x, -20.0, 600.0, make_generator(0)) - x
    assert noise.mean().item() == pytest.approx(-20.0, abs=0.2)
    assert noise.var().item() == pytest.approx(600.0, rel=0.02)


def test_speckle_is_multiplicative_and_leaves_black_pixels_black():
    x = torch.zeros(50, 28, 28)
    x[:, 10:18, 10:18] = 200.0
    out = speckle(x, 1.0, make_generator(1))
    assert torch.all(out[x == 0] == 0)
    rel = (out[x > 0] - 200.0) / 200.0
    assert rel.mean().item() == pytest.approx(0.0, abs=0.03)
    assert rel.std().item() == pytest.approx(1.0, rel=0.03)
    half = speckle(x, 0.5, make_generator(1))
    assert ((half[x > 0] - 200) / 200).std().item() == pytest.approx(0.5, rel=0.03)


def test_same_seed_same_noise_different_seed_different_noise():
    x = torch.rand(8, 28, 28) * 255
    cfg = preset("B")
    a = add_noise(x, cfg, make_generator(7))
    b = add_noise(x, cfg, make_generator(7))
    c = add_noise(x, cfg, make_generator(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_global_rng_is_untouched():
    images = torch.full((4, 28, 28), 120.0)
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    add_noise(images, preset("A"), make_generator(0))
    assert torch.equal(torch.rand(3), expected)


def test_mix_gives_exactly_half_gaussian_half_speckle():
    mask = mix_mask(1001, make_generator(0))
    assert mask.sum().item() == 501
    x = torch.zeros(1000, 28, 28)  # black images: speckle leaves them black, Gaussian does not
    out = add_noise(x, NoiseConfig(kind="mix", clip=False), make_generator(2))
    untouched = (out == 0).flatten(1).all(dim=1)
    assert untouched.sum().item() == 500


def test_clipping_is_default_and_unclipped_variant_keeps_out_of_range_values():
    x = torch.full((20, 28, 28), 5.0)
    clipped = add_noise(x, preset("B").with_kind("gaussian"), make_generator(0))
    assert clipped.min() >= 0 and clipped.max() <= 255
    cfg = NoiseConfig(kind="gaussian", mean=-20, var=600, clip=False)
    raw = add_noise(x, cfg, make_generator(0))
    assert raw.min() < 0


def test_presets_are_the_textbook_groups():
    assert (PRESETS["A"].mean, PRESETS["A"].var) == (-5.9, 35.0)
    assert (PRESETS["B"].mean, PRESETS["B"].var) == (-20.0, 600.0)
    assert preset("b") == PRESETS["B"]
    with pytest.raises(ValueError):
        preset("C")


@pytest.mark.parametrize("bad", [{"var": -1.0}, {"speckle": -0.1}, {"kind": "salt"}, {"mean": float("nan")}])
def test_invalid_noise_configs_are_rejected(bad):
    with pytest.raises(ValueError):
        NoiseConfig(**bad)
