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


def test_stroke_psnr_ignores_the_background(test_digits):
    clean = test_digits.images[:20].numpy() / 255.0
    damaged_background = clean.copy()
    damaged_background[clean <= metrics.STROKE_THRESHOLD] = 0.5
    assert metrics.stroke_psnr(clean, damaged_background).min() == metrics.PSNR_CAP
    assert metrics.psnr(clean, damaged_background).max() < 15


@pytest.mark.parametrize("name", ["median3", "gaussian_blur", "nl_means"])
def test_classical_filters_beat_the_noisy_input_on_gaussian_b(name, test_digits):
    data = noisy_test_set(test_digits, preset("B"), "gaussian", limit=30)
    assert evaluate_baseline(name, data)["psnr"] > evaluate_noisy(data)["psnr"] + 1.0


def test_bm3d_runs_on_a_subset(test_digits):
    data = noisy_test_set(test_digits, preset("B"), "gaussian", limit=40)
    row = evaluate_baseline("bm3d", data, limit=3)
    assert row["n"] == 3
    out = baselines.apply("bm3d", data.noisy[0])
    assert out.shape == (28, 28) and 0 <= out.min() and out.max() <= 1
    assert metrics.psnr(data.clean[0], out) > metrics.psnr(data.clean[0], np.clip(data.noisy[0], 0, 1))
