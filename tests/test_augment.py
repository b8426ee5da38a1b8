import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from lib import augment as A
from lib.noise import NoiseConfig, make_generator, preset


@pytest.fixture
def digits(test_digits):
    return test_digits.images[:16].float().unsqueeze(1) / 255.0  # (16, 1, 28, 28)


def test_dilate_is_scipy_grey_dilation_3x3(digits):
    ref = ndimage.grey_dilation(digits.numpy(), size=(1, 1, 3, 3), mode="constant", cval=0.0)
    np.testing.assert_allclose(A.dilate(digits).numpy(), ref, atol=1e-7)


def test_erode_is_scipy_grey_erosion_with_a_plus_footprint(digits):
    plus = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)[None, None]
    ref = ndimage.grey_erosion(digits.numpy(), footprint=plus, mode="constant", cval=0.0)
    np.testing.assert_allclose(A.erode(digits).numpy(), ref, atol=1e-7)


def test_stroke_width_thickens_thins_or_keeps_per_image(digits):
    x = digits[:3]
    out = A.stroke_width(x, torch.tensor([1, 0, -1]))
    ink = lambda t: float(t.sum())  # noqa: E731
    assert ink(out[0]) > 1.3 * ink(x[0])
    torch.testing.assert_close(out[1], x[1])
    assert ink(out[2]) < 0.8 * ink(x[2])


def test_intensity_is_gain_times_power(digits):
    x = digits[:2]
    out = A.intensity(x, torch.tensor([0.5, 1.0]), torch.tensor([2.0, 0.5]))
    np.testing.assert_allclose(out[0].numpy(), 0.5 * x[0].numpy() ** 2, atol=1e-6)
    np.testing.assert_allclose(out[1].numpy(), np.sqrt(x[1].numpy()), atol=1e-6)


def test_blur_is_scipy_gaussian_filter(digits):
    x = digits[:2]
    sigmas = [0.6, 1.0]
    out = A.blur(x, torch.tensor(sigmas), radius=3)
    for i, s in enumerate(sigmas):
        ref = ndimage.gaussian_filter(x[i, 0].double().numpy(), s, mode="constant", cval=0.0, radius=3)
        np.testing.assert_allclose(out[i, 0].numpy(), ref, atol=1e-6)


def test_blur_with_sigma_near_zero_keeps_the_image(digits):
    torch.testing.assert_close(A.blur(digits[:2], torch.zeros(2)), digits[:2])


def test_integer_shift_moves_pixels_exactly(digits):
    x = digits[:1]
    out = A.shift_pixels(x, torch.tensor([2.0]), torch.tensor([-3.0]))[0, 0].numpy()
    ref = np.zeros((28, 28), np.float32)
    ref[2:, : 28 - 3] = x[0, 0].numpy()[:-2, 3:]
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_quarter_rotation_is_rot90(digits):
    x = digits[:1]
    q = torch.tensor([math.pi / 2])
    out = A.affine(x, A.affine_matrices(q, torch.zeros(1), torch.ones(1), torch.zeros(1, 2)))
    # y grows downwards, so a positive angle turns the picture clockwise on screen.
    torch.testing.assert_close(out, torch.rot90(x, k=-1, dims=(2, 3)), atol=1e-5, rtol=0)


def test_slant_leans_a_vertical_bar():
    bar = torch.zeros(1, 1, 28, 28)
    bar[0, 0, 4:24, 13:15] = 1.0
    slant = torch.tensor([math.radians(25)])
    out = A.affine(bar, A.affine_matrices(torch.zeros(1), slant, torch.ones(1), torch.zeros(1, 2)))[0, 0].numpy()
    cols = np.arange(28)
    top = (out[5] * cols).sum() / out[5].sum()
    bottom = (out[22] * cols).sum() / out[22].sum()
    # x' = x + tan(slant)·y with y downwards: rows below the centre move right, above it left.
    assert bottom - top == pytest.approx(math.tan(slant.item()) * 17, abs=0.5)


def test_elastic_with_zero_strength_is_identity_and_moves_ink_a_little_otherwise(digits):
    g = make_generator(0)
    x = digits[:4]
    torch.testing.assert_close(A.elastic(x, torch.zeros(4), g), x, atol=1e-5, rtol=0)
    out = A.elastic(x, torch.full((4,), 1.5), g)
    assert not torch.allclose(out, x, atol=1e-3)
    ratio = out.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert torch.all((ratio > 0.85) & (ratio < 1.15))  # bent, not erased or smeared


def test_haze_puts_a_ramp_under_the_ink_only(digits):
    x = digits[:1]
    out = A.haze(x, torch.tensor([0.3]), torch.tensor([0.0]))  # brightest on the right
    bg = (x == 0)[0, 0]
    assert float(out[0, 0][bg].max()) <= 0.3 + 1e-6
    assert float(out[0, 0, 14, 27]) > float(out[0, 0, 14, 0])
    ink = x[0, 0] > 0.3
    torch.testing.assert_close(out[0, 0][ink], x[0, 0][ink])


def test_random_augment_is_reproducible_bounded_and_varied(digits):
    a = A.random_augment(digits, make_generator(5))
    b = A.random_augment(digits, make_generator(5))
    c = A.random_augment(digits, make_generator(6))
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)
    assert a.shape == digits.shape and float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    changed = (a - digits).abs().flatten(1).amax(1) > 1e-4
    assert 0 < int(changed.sum()) < len(digits)  # p = 0.5: some changed, some left as MNIST has them


def test_random_augment_with_p_zero_changes_nothing(digits):
    out = A.random_augment(digits, make_generator(0), A.AugmentConfig(p=0.0))
    torch.testing.assert_close(out, digits)


def test_noise_strengths_mix_clean_preset_and_range():
    u = A.noise_strengths(20000, make_generator(0))
    assert (u == 0).float().mean().item() == pytest.approx(0.1, abs=0.015)
    assert (u == 1).float().mean().item() == pytest.approx(0.5, abs=0.015)
    assert float(u.max()) <= 1.5


def test_blind_noise_at_full_strength_is_the_preset_gaussian():
    x = torch.full((4000, 28, 28), 128.0)
    noisy = A.blind_noise(x, NoiseConfig(kind="gaussian", mean=-20.0, var=600.0, clip=False), make_generator(1))
    u = A.noise_strengths(4000, make_generator(1))  # the same first draws
    full = noisy[u == 1] - 128.0
    assert float(full.mean()) == pytest.approx(-20.0, abs=0.3)
    assert float(full.var()) == pytest.approx(600.0, rel=0.03)
    torch.testing.assert_close(noisy[u == 0], x[u == 0])  # strength 0: a clean training pair


def test_blind_noise_speckle_keeps_black_black_and_clips():
    x = torch.zeros(64, 28, 28)
    x[:, 10:18, 10:18] = 255.0
    noisy = A.blind_noise(x, preset("B").with_kind("speckle"), make_generator(2))
    assert float(noisy[:, :10].abs().max()) == 0.0
    assert float(noisy.min()) >= 0.0 and float(noisy.max()) <= 255.0


def test_augment_digits_gives_uint8_reproducibly(test_digits):
    images = test_digits.images[:300]
    a = A.augment_digits(images, make_generator(3), chunk=128)
    b = A.augment_digits(images, make_generator(3), chunk=128)
    assert a.dtype == torch.uint8 and a.shape == images.shape
    assert torch.equal(a, b)
