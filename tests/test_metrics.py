import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from lib import baselines, metrics
from lib.evaluate import evaluate_baseline, evaluate_noisy, noisy_test_set
from lib.noise import preset


def test_psnr_matches_scikit_image_per_image():
    rng = np.random.default_rng(0)
    clean = rng.random((6, 28, 28))
    test = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    ours = metrics.psnr(clean, test)
    ref = [peak_signal_noise_ratio(c, t, data_range=1.0) for c, t in zip(clean, test)]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)
    assert metrics.psnr(clean[0], clean[0]) == metrics.PSNR_CAP


def test_ssim_is_scikit_images():
    rng = np.random.default_rng(1)
    clean = rng.random((3, 28, 28))
    test = np.clip(clean + rng.normal(0, 0.2, clean.shape), 0, 1)
    ref = [structural_similarity(c, t, data_range=1.0) for c, t in zip(clean, test)]
    np.testing.assert_allclose(metrics.ssim(clean, test), ref)


def test_ssim_is_scikit_images_on_digits_single_images_and_other_sizes(test_digits):
    rng = np.random.default_rng(2)
    clean = test_digits.images[:40].numpy() / 255.0
    noisy = np.clip(clean + rng.normal(0, 0.3, clean.shape), 0, 1)
    ref = [structural_similarity(c, t, data_range=1.0) for c, t in zip(clean, noisy)]
    np.testing.assert_allclose(metrics.ssim(clean, noisy), ref, rtol=1e-10)
    assert metrics.ssim(clean[0], noisy[0]).shape == ()
    assert float(metrics.ssim(clean[0], noisy[0])) == pytest.approx(ref[0], rel=1e-10)
    assert float(metrics.ssim(clean[0], clean[0])) == pytest.approx(1.0)
    wide = rng.random((20, 33))
    other = np.clip(wide + rng.normal(0, 0.1, wide.shape), 0, 1)
    assert float(metrics.ssim(wide, other)) == pytest.approx(structural_similarity(wide, other, data_range=1.0))


def test_stroke_psnr_ignores_the_background(test_digits):
    clean = test_digits.images[:20].numpy() / 255.0
    damaged_background = clean.copy()
    damaged_background[clean <= metrics.STROKE_THRESHOLD] = 0.5
    assert metrics.stroke_psnr(clean, damaged_background).min() == metrics.PSNR_CAP
    assert metrics.psnr(clean, damaged_background).max() < 15


@pytest.mark.parametrize("name", ["median3", "gaussian_blur", "nl_means", "bm3d"])
def test_classical_filters_remove_noise_from_a_smooth_image(name):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:28, 0:28] / 27.0
    clean = 0.25 + 0.5 * (xx + yy) / 2  # smooth ramp, away from the clip limits
    noisy = clean + rng.normal(0, 0.08, clean.shape)
    out = baselines.apply(name, noisy)
    assert out.shape == clean.shape and 0 <= out.min() and out.max() <= 1
    assert metrics.psnr(clean, out) > metrics.psnr(clean, noisy) + 3.0


def test_baselines_are_evaluated_on_the_same_noisy_test_images(test_digits):
    data = noisy_test_set(test_digits, preset("B"), "gaussian", limit=30)
    again = noisy_test_set(test_digits, preset("B"), "gaussian", limit=30)
    np.testing.assert_array_equal(data.noisy, again.noisy)
    row = evaluate_baseline("median3", data)
    assert row["n"] == 30 and row["psnr"] != evaluate_noisy(data)["psnr"]


def test_bm3d_runs_on_a_subset(test_digits):
    data = noisy_test_set(test_digits, preset("B"), "gaussian", limit=40)
    row = evaluate_baseline("bm3d", data, limit=3)
    assert row["n"] == 3
    out = baselines.apply("bm3d", data.noisy[0])
    assert out.shape == (28, 28) and 0 <= out.min() and out.max() <= 1
    assert metrics.psnr(data.clean[0], out) > metrics.psnr(data.clean[0], np.clip(data.noisy[0], 0, 1))
