"""A greyscale PNG written directly: the pages draw a dozen digit tiles per rerun, and PIL's save costs 3× more."""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(tag: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, tag, data, CRC of tag and data."""
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def grey_png(pixels: np.ndarray, level: int = 1) -> bytes:
    """An 8-bit greyscale PNG of a (H, W) uint8 array (no filtering; zlib at `level`, fast by default)."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8 or 0 in pixels.shape:
        raise ValueError(f"a non-empty (H, W) uint8 array is needed, not {pixels.dtype} {pixels.shape}")
    height, width = pixels.shape
    rows = np.zeros((height, width + 1), np.uint8)  # (H, 1 + W): each scanline starts with its filter type, 0
    rows[:, 1:] = pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8 bits, greyscale, deflate, no interlace
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), level))
        + _chunk(b"IEND", b"")
    )
