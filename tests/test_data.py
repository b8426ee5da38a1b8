import gzip
import hashlib

import numpy as np
import pytest

from lib.data import MNIST_DIR, Digits, load_array, load_split, parse_idx, train_val_split

MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


@pytest.mark.parametrize("name", sorted(MD5))
def test_vendored_files_decompress_to_standard_bytes(name):
    with gzip.open(MNIST_DIR / f"{name}.gz", "rb") as fh:
        assert hashlib.md5(fh.read()).hexdigest() == MD5[name]


def test_splits_have_mnist_shapes_and_label_counts(train_digits, test_digits):
    assert train_digits.images.shape == (60000, 28, 28)
    assert test_digits.images.shape == (10000, 28, 28)
    assert str(train_digits.images.dtype) == "torch.uint8"
    counts = np.bincount(train_digits.labels.numpy(), minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test_digits.labels.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train_digits.images.float().mean().item() == pytest.approx(33.318, abs=1e-3)


def test_cache_is_written_and_reused(tmp_path):
    first = load_array("t10k-labels-idx1-ubyte", MNIST_DIR, cache_dir=tmp_path)
    cached = tmp_path / "t10k-labels-idx1-ubyte.npy"
    assert cached.exists() and not list(tmp_path.glob("*.tmp"))
    np.testing.assert_array_equal(np.load(cached), first)


def test_damaged_cache_is_rebuilt(tmp_path):
    (tmp_path / "t10k-labels-idx1-ubyte.npy").write_bytes(b"garbage")
    labels = load_array("t10k-labels-idx1-ubyte", MNIST_DIR, cache_dir=tmp_path)
    assert labels.shape == (10000,)
    assert np.load(tmp_path / "t10k-labels-idx1-ubyte.npy").shape == (10000,)


def test_parse_idx_rejects_bad_headers_and_lengths():
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"\x00\x00\x09\x03" + b"\x00" * 12)
    header = (2049).to_bytes(4, "big") + (5).to_bytes(4, "big")
    assert parse_idx(header + bytes(range(5))).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="payload"):
        parse_idx(header + bytes(4))


def test_validation_split_is_held_out_of_training(train_digits):
    tr, va = train_val_split(train_digits, 2000)
    assert len(tr) == 58000 and len(va) == 2000
    assert va.images.data_ptr() != tr.images.data_ptr()
    assert isinstance(va, Digits)
    with pytest.raises(ValueError):
        train_val_split(train_digits, 0)


def test_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="unknown split"):
        load_split("validation")
