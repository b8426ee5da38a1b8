"""MNIST from the vendored IDX files: uint8 images (N, 28, 28) and int64 labels."""

from __future__ import annotations

import contextlib
import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lib.atomic import write_atomically

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MNIST_DIR = PROJECT_ROOT / "data" / "mnist"

SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# IDX magic numbers: 0x00000803 = uint8 3-D array, 0x00000801 = uint8 1-D array.
IDX_MAGIC = {3: 2051, 1: 2049}


@dataclass(frozen=True)
class Digits:
    """A split of MNIST: images (N, 28, 28) uint8 and labels (N,) int64."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.images.shape[0])


def parse_idx(raw: bytes) -> np.ndarray:
    """Decode an IDX file (uint8 payload, 1-D or 3-D) into a numpy array."""
    if len(raw) < 8:
        raise ValueError("IDX data too short")
    magic = int.from_bytes(raw[0:4], "big")
    ndim = raw[3]
    if IDX_MAGIC.get(ndim) != magic:
        raise ValueError(f"unexpected IDX magic number {magic:#010x}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(raw) - offset != count:
        raise ValueError(f"IDX payload has {len(raw) - offset} bytes, header says {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _atomic_save_npy(array: np.ndarray, path: Path) -> None:
    """Write an .npy file whole or not at all."""
    write_atomically(path, lambda fh: np.save(fh, array))


def load_array(name: str, mnist_dir: Path = MNIST_DIR, cache_dir: Path | None = None) -> np.ndarray:
    """One IDX file as a numpy array, decompressed once and cached as .npy."""
    cache_dir = cache_dir or mnist_dir / "cache"
    cached = cache_dir / f"{name}.npy"
    if cached.exists():
        try:
            return np.load(cached, allow_pickle=False)
        except (ValueError, OSError):
            cached.unlink(missing_ok=True)  # a damaged cache is rebuilt from the .gz
    gz_path = mnist_dir / f"{name}.gz"
    if not gz_path.exists():
        raise FileNotFoundError(f"MNIST file missing: {gz_path.name} (expected in data/mnist/)")
    with gzip.open(gz_path, "rb") as fh:
        array = parse_idx(fh.read())
    with contextlib.suppress(OSError):  # read-only checkout: work without the cache
        _atomic_save_npy(array, cached)
    return array


def load_split(split: str = "train", mnist_dir: Path = MNIST_DIR) -> Digits:
    """The train (60,000) or test (10,000) split as torch tensors."""
    if split not in SPLIT_FILES:
        raise ValueError(f"unknown split {split!r}; use 'train' or 'test'")
    image_name, label_name = SPLIT_FILES[split]
    images = load_array(image_name, mnist_dir)  # (N, 28, 28) uint8
    labels = load_array(label_name, mnist_dir)  # (N,) uint8
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{split}: {images.shape[0]} images but {labels.shape[0]} labels")
    return Digits(torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64)))


def train_val_split(digits: Digits, val_size: int) -> tuple[Digits, Digits]:
    """Hold out the last val_size training digits for validation (never the test set)."""
    if not 0 < val_size < len(digits):
        raise ValueError(f"val_size must be in 1..{len(digits) - 1}, got {val_size}")
    cut = len(digits) - val_size
    return (
        Digits(digits.images[:cut], digits.labels[:cut]),
        Digits(digits.images[cut:], digits.labels[cut:]),
    )
