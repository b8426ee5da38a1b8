import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from lib import outside
from lib.preprocess import open_image, to_mnist


@pytest.fixture(scope="module")
def shipped():
    return outside.load()


def test_regenerating_gives_the_shipped_set_exactly(shipped):
    fresh = outside.generate(np.random.default_rng(outside.SEED))
    np.testing.assert_array_equal(fresh.images, shipped.images)
    np.testing.assert_array_equal(fresh.labels, shipped.labels)
    np.testing.assert_array_equal(fresh.kinds, shipped.kinds)


def test_one_cell_regenerates_alone(shipped):
    cell = outside.generate(np.random.default_rng(outside.SEED), cells=[("photo", 3)])
    rows = (shipped.kinds == "photo") & (shipped.labels == 3)
    np.testing.assert_array_equal(cell.images, shipped.images[rows])


def test_another_seed_gives_other_digits():
    a = outside.generate(np.random.default_rng(1), per_class=2, cells=[("pen", 5)])
    b = outside.generate(np.random.default_rng(2), per_class=2, cells=[("pen", 5)])
    assert not np.array_equal(a.images, b.images)


def test_every_writer_writes_every_class(shipped):
    assert shipped.images.shape == (450, 28, 28) and shipped.images.dtype == np.uint8
    for kind in outside.KINDS:
        sub = shipped.subset(kind)
        assert np.bincount(sub.labels, minlength=10).tolist() == [outside.PER_CLASS] * 10


def test_digits_are_in_mnist_format(shipped):
    images = shipped.images.astype(np.float64) / 255.0
    peaks = images.max(axis=(1, 2))
    assert np.median(peaks) > 0.95  # contrast stretched: the ink reaches (nearly) white …
    assert peaks.min() > 0.4  # … thin photographed strokes lose some of it when scaled to 20×20
    offsets = []
    for image in images:
        cy, cx = ndimage.center_of_mass(image)
        offsets.append(max(abs(cy - 13.5), abs(cx - 13.5)))
        rows = np.flatnonzero((image > 0.2).any(axis=1))
        cols = np.flatnonzero((image > 0.2).any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21  # fits the 20×20 box
    # Centred by centre of mass (a lopsided digit cannot move all the way without leaving the frame).
    assert np.median(offsets) <= 0.6 and max(offsets) <= 2.5


def test_writers_differ_from_each_other_and_from_mnist(shipped, test_digits):
    """Three kinds of shift: the writers' digits are not alike, and none looks like MNIST on average."""
    mnist_ink = float((test_digits.images[:450].numpy() > 127).mean())
    inks = {k: float((shipped.subset(k).images > 127).mean()) for k in outside.KINDS}
    greys = {k: float(((shipped.subset(k).images > 25) & (shipped.subset(k).images < 200)).mean()) for k in inks}
    assert len({round(v, 3) for v in inks.values()}) == 3
    assert inks["font"] > inks["pen"]  # typeset digits are bolder than the pen's
    assert greys["photo"] > greys["font"]  # the photos' grey ink and haze
    assert all(abs(v - mnist_ink) > 0.005 for v in inks.values()) or max(greys.values()) > 1.5 * greys["font"]


def test_skeletons_cover_all_digits_in_the_unit_box():
    for digit in range(10):
        for variant in range(6):
            for points, _ in outside.skeletons(digit, variant):
                assert points.shape[1] == 2 and points.min() >= -0.05 and points.max() <= 1.05
    with pytest.raises(ValueError):
        outside.skeletons(10, 0)


def test_a_picture_goes_through_to_mnist_like_a_photo():
    pic = outside.picture("photo", 7, np.random.default_rng(0))
    assert pic.mode == "L" and min(pic.size) >= 48
    assert np.median(np.asarray(pic)) > 127  # dark ink on light paper, like a photo of a sheet
    assert to_mnist(pic).shape == (28, 28)
    with pytest.raises(ValueError):
        outside.picture("crayon", 7, np.random.default_rng(0))


def test_save_and_load_round_trip(tmp_path, shipped):
    path = outside.save(shipped.subset("font"), tmp_path / "x.npz")
    back = outside.load(path)
    np.testing.assert_array_equal(back.images, shipped.subset("font").images)
    assert back.kinds.tolist() == ["font"] * 150


def test_load_folder_reads_pictures_with_labels_from_names(tmp_path):
    rng = np.random.default_rng(3)
    for digit in (2, 5):
        outside.picture("pen", digit, rng).save(tmp_path / f"{digit}_mine.png")
    (tmp_path / "notes.txt").write_text("not a picture")
    got = outside.load_folder(tmp_path)
    assert got.labels.tolist() == [2, 5] and got.images.shape == (2, 28, 28)
    direct = to_mnist(open_image((tmp_path / "2_mine.png").read_bytes()))
    np.testing.assert_array_equal(got.images[0], np.round(direct * 255).astype(np.uint8))
    assert got.digits().images.shape == (2, 28, 28)


def test_load_folder_without_pictures_is_a_clear_error(tmp_path):
    Image.new("L", (4, 4)).save(tmp_path / "x.tiff")
    with pytest.raises(ValueError, match="no pictures"):
        outside.load_folder(tmp_path)
