"""The explainer's math as plain loops that mirror the textbook's formulas (readable, not fast).

Index conventions follow eq. (7): S(i, j) = Σ_m Σ_n I(i·s + m·d, j·s + n·d) · K(m, n) on the zero-padded
input (cross-correlation, what torch.nn.functional.conv2d computes). With flip=True the kernel is
mirrored first, which turns the sum into the convolution of eq. (6).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import gcd

import numpy as np

from lib.i18n import true_minus

Pair = tuple[int, int]

# Fig. 2 of the textbook: the 5×5 input tensor and the sharpen kernel of eq. (11).
FIG2_INPUT = np.array(
    [[2, 2, 1, 1, 1], [2, 2, 1, 1, 1], [3, 3, 3, 3, 3], [3, 3, 3, 3, 3], [3, 3, 3, 3, 3]], dtype=float
)
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
FIG2_PRINTED_OUTPUT = np.array([[2, -2, 0], [4, 5, 5], [3, 3, 3]], dtype=float)  # as printed in the book

KERNEL_PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "sharpen": SHARPEN,
    "box_blur": np.full((3, 3), 1 / 9),
    "gaussian": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "edge": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
}


def pair(v: int | Pair) -> Pair:
    """An int or a pair as an (h, w) pair of ints."""
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def output_size(n: int, k: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1, the size of a convolution's output along one axis."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


def transposed_output_size(
    n: int, k: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """(n − 1)·s − 2p + d·(k − 1) + op + 1, the size of a transposed convolution's output along one axis."""
    return (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1


def receptive_field(k: int, dilation: int = 1) -> int:
    """Span of input cells one output cell sees along an axis: d·(k − 1) + 1."""
    return dilation * (k - 1) + 1


def pad(x: np.ndarray, padding: int | Pair) -> np.ndarray:
    """Zero padding around a 2-D array."""
    ph, pw = pair(padding)
    out = np.zeros((x.shape[0] + 2 * ph, x.shape[1] + 2 * pw))
    out[ph : ph + x.shape[0], pw : pw + x.shape[1]] = x
    return out


def conv2d(
    x: np.ndarray,
    kernel: np.ndarray,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    flip: bool = False,
) -> np.ndarray:
    """2-D cross-correlation (eq. 7), or convolution (eq. 6) with flip=True, one channel."""
    k = np.flip(kernel) if flip else np.asarray(kernel, dtype=float)
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    ph, pw = pair(padding)
    xp = pad(np.asarray(x, dtype=float), (ph, pw))
    kh, kw = k.shape
    out_h = output_size(x.shape[0], kh, sh, ph, dh)
    out_w = output_size(x.shape[1], kw, sw, pw, dw)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"the kernel does not fit: output would be {out_h}×{out_w}")
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            total = 0.0
            for m in range(kh):
                for n in range(kw):
                    total += xp[i * sh + m * dh, j * sw + n * dw] * k[m, n]
            out[i, j] = total
    return out


def window_cells(i: int, j: int, kernel_shape: Pair, stride: int | Pair = 1, dilation: int | Pair = 1) -> list[Pair]:
    """Padded-input cells (row, col) that output cell (i, j) multiplies, in kernel order."""
    sh, sw = pair(stride)
    dh, dw = pair(dilation)
    return [(i * sh + m * dh, j * sw + n * dw) for m in range(kernel_shape[0]) for n in range(kernel_shape[1])]


@dataclass(frozen=True)
class Step:
    """One output cell of the step-through: the cells it sees, every product and their sum."""

    i: int
    j: int
    cells: list[Pair]
    products: list[tuple[float, float, float]]  # (input value, kernel value, product)
    total: float


def step(
    x: np.ndarray, kernel: np.ndarray, index: int, stride: int | Pair = 1, padding: int | Pair = 0,
    dilation: int | Pair = 1, flip: bool = False,
) -> Step:  # fmt: skip
    """The index-th output cell (row-major) of conv2d with every product spelled out."""
    k = np.flip(kernel) if flip else np.asarray(kernel, dtype=float)
    xp = pad(np.asarray(x, dtype=float), padding)
    out_w = output_size(x.shape[1], k.shape[1], pair(stride)[1], pair(padding)[1], pair(dilation)[1])
    i, j = divmod(index, out_w)
    cells = window_cells(i, j, k.shape, stride, dilation)
    products = [(float(xp[r, c]), float(w), float(xp[r, c] * w)) for (r, c), w in zip(cells, k.ravel())]
    return Step(i, j, cells, products, float(sum(p for _, _, p in products)))


def conv1d(
    x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1, flip: bool = False
) -> np.ndarray:
    """1-D cross-correlation (or convolution with flip=True), as in eq. (2)–(3)."""
    return conv2d(np.asarray(x, float)[None, :], np.asarray(kernel, float)[None, :], (1, stride), (0, padding),
                  (1, dilation), flip)[0]  # fmt: skip


def conv_transpose2d(x: np.ndarray, kernel: np.ndarray, stride: int | Pair = 1, padding: int | Pair = 0) -> np.ndarray:
    """Transposed convolution: every input cell stamps a scaled copy of the kernel, stamps overlap and add."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    kh, kw = kernel.shape
    full = np.zeros(((x.shape[0] - 1) * sh + kh, (x.shape[1] - 1) * sw + kw))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            for m in range(kh):
                for n in range(kw):
                    full[i * sh + m, j * sw + n] += x[i, j] * kernel[m, n]
    return full[ph : full.shape[0] - ph, pw : full.shape[1] - pw]


def transposed_overlap(n_in: int, kernel: int, stride: int, padding: int = 0) -> np.ndarray:
    """How many (input cell, kernel cell) pairs land on each output cell of a 2-D transposed conv."""
    return conv_transpose2d(np.ones((n_in, n_in)), np.ones((kernel, kernel)), stride, padding).astype(int)


def transposed_interior(n_in: int, kernel: int, stride: int) -> slice:
    """Output cells (one axis, no padding) whose stamps are not cut by the edges: k − s ≤ p ≤ n·s − 1.

    Output cell p is covered by input cells i with i·s ≤ p < i·s + k. Away from the edges there are
    ⌊k/s⌋ or ⌈k/s⌉ of them depending on p mod s; near the edges some of those i fall outside 0…n−1.
    The range is empty when the input is too small to have an inside.
    """
    return slice(max(kernel - stride, 0), max(n_in * stride, kernel - stride))


def checkerboard(kernel: int, stride: int) -> bool:
    """Whether the inside of a transposed convolution's output is covered unevenly: k is not a multiple of s."""
    return kernel % stride != 0


@dataclass(frozen=True)
class Coverage:
    """Contributions per output cell inside a 2-D transposed convolution's output (no padding)."""

    lo: int  # ⌊k/s⌋²: fewest contributions a cell away from the edges gets
    hi: int  # ⌈k/s⌉²: most; equal to lo exactly when s divides k
    visible: bool  # the overlap map of this input size has an inside that shows both values

    @property
    def uneven(self) -> bool:
        return self.lo != self.hi


def transposed_coverage(n_in: int, kernel: int, stride: int) -> Coverage:
    """The inside coverage from the formula, and whether the n_in×n_in map is big enough to show it."""
    lo, hi = (kernel // stride) ** 2, (-(-kernel // stride)) ** 2
    inside = transposed_interior(n_in, kernel, stride)
    core = transposed_overlap(n_in, kernel, stride)[inside, inside]
    visible = core.size > 0 and int(core.min()) == lo and int(core.max()) == hi
    return Coverage(lo, hi, visible)


def upsample_nearest(x: np.ndarray, factor: int) -> np.ndarray:
    """Repeat every cell factor×factor times (the 'resize' of resize-then-convolve)."""
    return np.repeat(np.repeat(np.asarray(x, float), factor, axis=0), factor, axis=1)


def resize_then_conv_overlap(n_in: int, kernel: int, factor: int) -> np.ndarray:
    """Kernel coverage of each output cell for nearest resize then 'same' convolution: uniform inside."""
    up = upsample_nearest(np.ones((n_in, n_in)), factor)
    return conv2d(up, np.ones((kernel, kernel)), padding=kernel // 2).astype(int)


def conv2d_multichannel(
    x: np.ndarray, filt: np.ndarray, stride: int | Pair = 1, padding: int | Pair = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Input (C, H, W), filter (C, k, k): the per-channel maps (C, H', W') and their sum (Fig. 3)."""
    if x.shape[0] != filt.shape[0]:
        raise ValueError(f"input has {x.shape[0]} channels but the filter has {filt.shape[0]} kernels")
    maps = np.stack([conv2d(x[c], filt[c], stride, padding) for c in range(x.shape[0])])
    return maps, maps.sum(axis=0)


@dataclass(frozen=True)
class Separability:
    """Whether a 2-D kernel is scale · (column ⊗ row) (rank 1), and the factors if so."""

    rank: int
    singular_values: np.ndarray
    column: np.ndarray | None
    row: np.ndarray | None
    scale: float = 1.0  # kernel = scale · outer(column, row); e.g. 1/16 for the Gaussian (1, 2, 1)ᵀ(1, 2, 1)

    @property
    def separable(self) -> bool:
        return self.rank == 1


def _integer_multiplier(kernel: np.ndarray, max_denominator: int = 256) -> int | None:
    """The smallest q ≤ max_denominator making q·kernel whole numbers, or None."""
    denominators = [Fraction(float(v)).limit_denominator(max_denominator) for v in kernel.ravel()]
    if not all(abs(float(fr) - float(v)) < 1e-9 for fr, v in zip(denominators, kernel.ravel())):
        return None
    q = 1
    for fr in denominators:
        q = q * fr.denominator // gcd(q, fr.denominator)
    return q if q <= max_denominator else None


def _orient(column: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fix the sign a student expects: the factor with the larger |sum| (the smoothing one) is positive."""
    big = column if abs(column.sum()) >= abs(row.sum()) else row
    lead = big.sum() if abs(big.sum()) > 1e-12 else big[np.flatnonzero(np.abs(big) > 1e-12)[0]]
    column, row = (column, row) if lead > 0 else (-column, -row)
    return column + 0.0, row + 0.0  # + 0.0: no -0 entries


def separability(kernel: np.ndarray, tol: float = 1e-9) -> Separability:
    """Rank of the kernel by SVD; a rank-1 kernel factors as scale · column · row (eq. 12–13).

    A kernel of whole numbers (or whole numbers over a common denominator, like the Gaussian's /16)
    gets whole-number factors with no common divisor, e.g. Sobel = (1, 2, 1)ᵀ · (−1, 0, 1); otherwise
    the SVD's factors are used, balanced to equal size.
    """
    kernel = np.asarray(kernel, dtype=float)
    u, s, vt = np.linalg.svd(kernel)
    rank = int((s > tol * max(s[0], 1e-300)).sum()) if s.size and s[0] > 0 else 0
    if rank != 1:
        return Separability(rank, s, None, None)
    q = _integer_multiplier(kernel)
    if q is not None:
        whole = np.round(kernel * q).astype(np.int64)  # rank 1, so every non-zero row is a multiple of one row
        r0 = int(np.flatnonzero(np.abs(whole).sum(axis=1))[0])
        row = whole[r0] // np.gcd.reduce(np.abs(whole[r0]))
        c0 = int(np.flatnonzero(row)[0])
        column = whole[:, c0] // row[c0]
        g = int(np.gcd.reduce(np.abs(column)))
        column, factor = column // g, g  # move the column's common divisor into the scale
        column, row = _orient(column.astype(float), row.astype(float))
        if np.allclose(np.outer(column, row) * factor / q, kernel, atol=1e-9):
            return Separability(1, s, column, row, factor / q)
    column, row = _orient(u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0]))
    return Separability(1, s, column, row)


def outer(column: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Column vector times row vector = a matrix (eq. 13), written as loops."""
    out = np.zeros((len(column), len(row)))
    for a in range(len(column)):
        for b in range(len(row)):
            out[a, b] = column[a] * row[b]
    return out


def separable_conv2d(
    x: np.ndarray, column: np.ndarray, row: np.ndarray, column_first: bool = True, scale: float = 1.0
) -> np.ndarray:
    """Two passes: a k×1 kernel down the columns and a 1×k kernel along the rows (either order), times scale."""
    col_k = np.asarray(column, float)[:, None] * scale
    row_k = np.asarray(row, float)[None, :]
    if column_first:
        return conv2d(conv2d(x, col_k), row_k)
    return conv2d(conv2d(x, row_k), col_k)


def number(value: float, digits: int = 4, decimal: str = ".") -> str:
    """A number as a student writes it: no '-0', a real minus sign, up to `digits` significant digits.

    decimal="," writes the Russian decimal comma.
    """
    value = round(float(value), 10) + 0.0  # -0.0 and float dust like -1e-17 become 0
    text = f"{value:.{digits}g}"
    return true_minus(text).replace(".", decimal)


def signed_sum(values: list[float], decimal: str = ".") -> str:
    """Terms joined as '2 − 2 + 0' (not '2 + -2'), the first one with its own sign."""
    parts = []
    for i, v in enumerate(values):
        v = round(float(v), 10) + 0.0
        if i == 0:
            parts.append(number(v, decimal=decimal))
        else:
            parts.append(("− " if v < 0 else "+ ") + number(abs(v), decimal=decimal))
    return " ".join(parts)


def multiplications(h: int, w: int, kh: int, kw: int) -> dict[str, int]:
    """Multiplication counts of a direct kh×kw convolution and of both separable orders (valid, stride 1)."""
    oh, ow = h - kh + 1, w - kw + 1
    return {
        "direct": oh * ow * kh * kw,
        "column_first": oh * w * kh + oh * ow * kw,
        "row_first": h * ow * kw + oh * ow * kh,
    }


def toy_autoencoder(x1: float, x2: float, w11: float, w12: float, w21: float, w22: float) -> dict[str, float]:
    """Fig. 5 / eq. (15): h = x1·w11 + x2·w12, y1 = w21·h, y2 = w22·h."""
    h = x1 * w11 + x2 * w12
    return {"x1w11": x1 * w11, "x2w12": x2 * w12, "h": h, "y1": w21 * h, "y2": w22 * h}


def textbook_signal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A transmitted signal for the 1-D example: two tones plus channel noise."""
    t = np.arange(n)
    return np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 9) + 0.3 * rng.standard_normal(n)


def torch_reference(x: np.ndarray, kernel: np.ndarray, stride: int | Pair = 1, padding: int | Pair = 0,
                    dilation: int | Pair = 1) -> np.ndarray:  # fmt: skip
    """The same cross-correlation computed by torch.nn.functional.conv2d, for the on-screen check."""
    import torch
    import torch.nn.functional as F

    out = F.conv2d(torch.tensor(np.asarray(x, float))[None, None], torch.tensor(np.asarray(kernel, float))[None, None],
                   stride=pair(stride), padding=pair(padding), dilation=pair(dilation))  # fmt: skip
    return out[0, 0].numpy()


def image_for_filtering(gray: np.ndarray, max_side: int = 64) -> np.ndarray:
    """A grayscale picture (0..255) scaled down so the readable loops stay quick, as [0, 1]."""
    from PIL import Image

    img = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8))
    img.thumbnail((max_side, max_side))
    return np.asarray(img, dtype=float) / 255.0
