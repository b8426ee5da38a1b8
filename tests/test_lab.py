"""The noise lab's statements: which images the noise changed, and what the clipping histogram says."""

import numpy as np
import pytest
import torch

from lib import metrics
from lib.i18n import t
from lib.lab import clean_digit, clipping_notes, make_triples
from lib.models import Table1Config, build_model
from lib.noise import NoiseConfig, make_generator


@pytest.fixture(scope="module")
def model():
    return build_model(Table1Config(), make_generator(0)).eval()


@pytest.fixture(scope="module")
def images(test_digits):
    return test_digits.images[:6]


@pytest.mark.parametrize(
    "noise", [NoiseConfig(kind="speckle", speckle=0.0), NoiseConfig(kind="gaussian", mean=0.0, var=0.0),
              NoiseConfig(kind="mix", mean=0.0, var=0.0, speckle=0.0, clip=False)],
)  # fmt: skip
def test_noise_that_changes_nothing_has_no_noisy_score(model, images, noise):
    tri = make_triples(model, images, noise, 0)
    assert tri.untouched.all()
    assert (tri.psnr_noisy == metrics.PSNR_CAP).all()  # what the page used to print as "100.00 dB"
    avg = tri.averages()
    assert avg["psnr_noisy"] is None and avg["ssim_noisy"] is None
    assert avg["psnr_cleaned"] == pytest.approx(float(tri.psnr_cleaned.mean()))
    assert clipping_notes(noise, tri) == [("lab.clip.no_noise", {})]


def test_mix_with_speckle_off_averages_only_the_noised_images(model, images):
    tri = make_triples(model, images, NoiseConfig(kind="mix", mean=-20.0, var=600.0, speckle=0.0), 1)
    np.testing.assert_array_equal(tri.untouched, ~tri.gaussian)
    assert tri.gaussian.any() and not tri.gaussian.all()
    avg = tri.averages()
    assert avg["psnr_noisy"] == pytest.approx(float(tri.psnr_noisy[tri.gaussian].mean()))
    assert avg["psnr_cleaned"] == pytest.approx(float(tri.psnr_cleaned[tri.gaussian].mean()))
    assert avg["psnr_noisy"] < 40  # no 100 dB image mixed in
    keys = [k for k, _ in clipping_notes(NoiseConfig(kind="mix", mean=-20.0, var=600.0, speckle=0.0), tri)]
    assert not any("speckle" in k for k in keys)


@pytest.mark.parametrize("clip", [True, False])
@pytest.mark.parametrize(
    "kind,mean,expected",
    [("gaussian", -20.0, {"gauss_negative"}), ("gaussian", 10.0, {"gauss"}), ("speckle", -20.0, {"speckle"}),
     ("mix", -20.0, {"gauss_negative", "speckle"})],
)  # fmt: skip
def test_histogram_message_matches_the_noise_kind_and_clipping(model, images, clip, kind, mean, expected):
    noise = NoiseConfig(kind=kind, mean=mean, var=600.0, speckle=1.0, clip=clip)
    tri = make_triples(model, images, noise, 2)
    notes = clipping_notes(noise, tri)
    state = "on" if clip else "off"
    assert notes[0] == (f"lab.clip.share.{state}", {"share": tri.clipped_share()})
    assert {k.split(".")[2] for k, _ in notes[1:]} == expected
    assert all(k.endswith(f".{state}") for k, _ in notes)
    text = " ".join(t(k, "en", **p) for k, p in notes)
    assert ("clipped" in text) == clip and ("clipping is off" in text.lower()) == (not clip)
    if kind == "speckle":
        assert "μ" not in text  # speckle has no mean to blame
    raw = tri.noisy_raw[tri.gaussian] if kind != "speckle" else tri.noisy_raw
    share = float(((raw < 0) | (raw > 255)).mean())
    assert dict(notes[1:]).get(f"lab.clip.{next(iter(expected - {'speckle'}), 'speckle')}.{state}")["share"] == (
        pytest.approx(share)
    )


def test_one_digit_with_zero_noise_is_untouched_and_clean_as_is_is_not(model, test_digits):
    digit = test_digits.images[0].numpy() / 255.0
    zero = clean_digit({"m": model}, digit, NoiseConfig(kind="speckle", speckle=0.0), 0)
    assert zero.noise_added and zero.untouched
    as_is = clean_digit({"m": model}, digit, None, 0)
    assert not as_is.noise_added and not as_is.untouched
    noisy = clean_digit({"m": model}, digit, NoiseConfig(kind="gaussian"), 0)
    assert noisy.noise_added and not noisy.untouched
    torch.testing.assert_close(torch.from_numpy(as_is.noisy), torch.from_numpy(as_is.clean))
