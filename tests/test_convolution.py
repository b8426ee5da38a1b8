"""lib.convolution's loops against torch.nn.functional and scipy.signal."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import signal

from lib import convolution as cv

RNG = np.random.default_rng(0)
CASES_2D = list(
    itertools.product([(5, 5), (7, 9), (8, 6)], [(3, 3), (2, 3), (1, 1)], [1, 2, (2, 1)], [0, 1, (2, 0)], [1, 2])
)


def torch_conv2d(x, k, stride, padding, dilation):
    out = F.conv2d(torch.tensor(x)[None, None], torch.tensor(k)[None, None], stride=stride, padding=padding,
                   dilation=dilation)  # fmt: skip
    return out[0, 0].numpy()


@pytest.mark.parametrize("shape,kshape,stride,padding,dilation", CASES_2D)
def test_conv2d_matches_torch(shape, kshape, stride, padding, dilation):
    x = RNG.normal(size=shape)
    k = RNG.normal(size=kshape)
    try:
        ref = torch_conv2d(x, k, stride, padding, dilation)
    except RuntimeError:
        with pytest.raises(ValueError):
            cv.conv2d(x, k, stride, padding, dilation)
        return
    ours = cv.conv2d(x, k, stride, padding, dilation)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    s, p = cv.pair(stride), cv.pair(padding)
    assert ours.shape == (cv.output_size(shape[0], kshape[0], s[0], p[0], dilation),
                          cv.output_size(shape[1], kshape[1], s[1], p[1], dilation))  # fmt: skip


@pytest.mark.parametrize("shape,kshape", [((5, 5), (3, 3)), ((6, 9), (2, 4)), ((10, 7), (5, 1))])
def test_correlation_and_convolution_match_scipy(shape, kshape):
    x = RNG.normal(size=shape)
    k = RNG.normal(size=kshape)
    np.testing.assert_allclose(cv.conv2d(x, k), signal.correlate2d(x, k, mode="valid"), atol=1e-10)
    np.testing.assert_allclose(cv.conv2d(x, k, flip=True), signal.convolve2d(x, k, mode="valid"), atol=1e-10)


@pytest.mark.parametrize(
    "n,k,stride,padding,dilation", list(itertools.product([9, 16], [1, 3, 4], [1, 2, 3], [0, 2], [1, 2]))
)
def test_conv1d_matches_torch(n, k, stride, padding, dilation):
    x = RNG.normal(size=n)
    w = RNG.normal(size=k)
    ref = F.conv1d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], stride=stride, padding=padding,
                   dilation=dilation)[0, 0].numpy()  # fmt: skip
    np.testing.assert_allclose(cv.conv1d(x, w, stride, padding, dilation), ref, atol=1e-10)
    np.testing.assert_allclose(cv.conv1d(x, w, flip=True), np.convolve(x, w, mode="valid"), atol=1e-10)


@pytest.mark.parametrize("n,k,stride,padding", list(itertools.product([3, 6], [2, 3, 4, 7], [1, 2, 3], [0, 1])))
def test_conv_transpose2d_matches_torch(n, k, stride, padding):
    x = RNG.normal(size=(n, n))
    w = RNG.normal(size=(k, k))
    ref = F.conv_transpose2d(torch.tensor(x)[None, None], torch.tensor(w)[None, None], stride=stride,
                             padding=padding)[0, 0].numpy()  # fmt: skip
    ours = cv.conv_transpose2d(x, w, stride, padding)
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    assert ours.shape[0] == cv.transposed_output_size(n, k, stride, padding)


def test_multichannel_sum_matches_torch():
    x = RNG.normal(size=(3, 6, 6))
    filt = RNG.normal(size=(3, 3, 3))
    maps, total = cv.conv2d_multichannel(x, filt)
    ref = F.conv2d(torch.tensor(x)[None], torch.tensor(filt)[None])[0, 0].numpy()
    np.testing.assert_allclose(total, ref, atol=1e-10)
    np.testing.assert_allclose(maps.sum(axis=0), total)
    with pytest.raises(ValueError):
        cv.conv2d_multichannel(x, filt[:2])


def test_textbook_fig2_worked_example():
    out = cv.conv2d(cv.FIG2_INPUT, cv.SHARPEN)
    ref = signal.correlate2d(cv.FIG2_INPUT, cv.SHARPEN, mode="valid")
    np.testing.assert_allclose(out, ref)
    differs = np.argwhere(out != cv.FIG2_PRINTED_OUTPUT)
    assert differs.tolist() == [[0, 2]]  # the book prints 0 where the sum is −1
    first = cv.step(cv.FIG2_INPUT, cv.SHARPEN, 0)
    assert first.total == out[0, 0]
    assert first.cells[4] == (1, 1)  # the centre of the first window is x22 (1-based)


def test_step_through_moves_the_window_with_stride_and_dilation():
    x = RNG.normal(size=(7, 7))
    k = RNG.normal(size=(3, 3))
    out = cv.conv2d(x, k, stride=2, dilation=1)
    for idx in range(out.size):
        st = cv.step(x, k, idx, stride=2)
        assert st.total == pytest.approx(out[st.i, st.j])
    assert cv.step(x, k, 1, stride=2).cells[0] == (0, 2)
    assert cv.step(x, k, 0, dilation=2).cells[:3] == [(0, 0), (0, 2), (0, 4)]


def test_separable_kernels_factor_and_give_identical_output():
    column, row = np.array([1.0, 2.0, 1.0]), np.array([-1.0, 0.0, 1.0])
    kernel = cv.outer(column, row)
    np.testing.assert_allclose(kernel, np.outer(column, row))
    sep = cv.separability(kernel)
    assert sep.separable
    np.testing.assert_allclose(cv.outer(sep.column, sep.row), kernel, atol=1e-12)
    x = RNG.normal(size=(5, 5))
    direct = cv.conv2d(x, kernel)
    np.testing.assert_allclose(cv.separable_conv2d(x, sep.column, sep.row), direct, atol=1e-10)
    np.testing.assert_allclose(cv.separable_conv2d(x, sep.column, sep.row, column_first=False), direct, atol=1e-10)
    assert not cv.separability(cv.SHARPEN).separable
    assert cv.separability(cv.SHARPEN).rank == np.linalg.matrix_rank(cv.SHARPEN)


def test_multiplication_counts_match_the_textbook():
    counts = cv.multiplications(5, 5, 3, 3)
    assert counts == {"direct": 81, "column_first": 72, "row_first": 72}
    wide = cv.multiplications(5, 20, 3, 3)
    assert wide["column_first"] != wide["row_first"]


def test_resize_then_convolve_has_uniform_coverage_inside():
    inner = cv.resize_then_conv_overlap(6, 3, 2)[3:-3, 3:-3]
    assert inner.min() == inner.max() == 9


def test_toy_autoencoder_of_fig5():
    r = cv.toy_autoencoder(2, 6, 2, 1, 0.3, 0.7)
    assert r["h"] == 10 and r["y1"] == pytest.approx(3.0) and r["y2"] == pytest.approx(7.0)


def test_receptive_field():
    assert cv.receptive_field(3, 1) == 3 and cv.receptive_field(3, 2) == 5


@pytest.mark.parametrize("k,s", list(itertools.product(range(1, 9), range(1, 5))))
def test_transposed_coverage_is_decided_by_k_mod_s(k, s):
    lo, hi = (k // s) ** 2, (-(-k // s)) ** 2
    for n in range(2, 9):
        cov = cv.transposed_coverage(n, k, s)
        assert (cov.lo, cov.hi, cov.uneven) == (lo, hi, k % s != 0)
        ones = torch.ones(1, 1, n, n, dtype=torch.float64)
        counts = F.conv_transpose2d(ones, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)[0, 0].numpy()
        inside = cv.transposed_interior(n, k, s)
        core = counts[inside, inside]
        per_axis = {k // s, -(-k // s)}
        assert set(np.unique(core).astype(int)) <= {a * b for a in per_axis for b in per_axis}  # no edge values
        if core.shape[0] >= s:  # a whole period of the pattern fits: both values appear
            assert cov.visible and core.min() == lo and core.max() == hi


def test_small_inputs_with_k_divisible_by_s_are_not_called_uneven():
    # regression: k = 6, s = 3 on a 2×2 input and k = 4, s = 2 on small inputs were called "not divisible"
    for n, k, s in [(2, 6, 3), (2, 4, 2), (3, 4, 2)]:
        cov = cv.transposed_coverage(n, k, s)
        assert not cov.uneven and cov.lo == cov.hi == (k // s) ** 2
    small = cv.transposed_coverage(2, 7, 3)
    assert small.uneven and not small.visible  # 7 mod 3 ≠ 0, but a 2×2 input has no inside to show it


@pytest.mark.parametrize(
    "name,column,row,scale",
    [("sobel_x", [1, 2, 1], [-1, 0, 1], 1.0), ("sobel_y", [-1, 0, 1], [1, 2, 1], 1.0),
     ("gaussian", [1, 2, 1], [1, 2, 1], 1 / 16), ("box_blur", [1, 1, 1], [1, 1, 1], 1 / 9),
     ("identity", [0, 1, 0], [0, 1, 0], 1.0)],
)  # fmt: skip
def test_separable_factors_are_the_small_integers_a_student_expects(name, column, row, scale):
    sep = cv.separability(cv.KERNEL_PRESETS[name])
    assert sep.column.tolist() == column and sep.row.tolist() == row
    assert sep.scale == pytest.approx(scale)
    assert not np.signbit(sep.column[sep.column == 0]).any()  # no "-0"
    x = RNG.normal(size=(6, 7))
    np.testing.assert_allclose(
        cv.separable_conv2d(x, sep.column, sep.row, scale=sep.scale), signal.correlate2d(x, cv.KERNEL_PRESETS[name],
                                                                                          mode="valid"), atol=1e-10
    )  # fmt: skip


def test_non_integer_rank_one_kernel_still_factors():
    kernel = np.outer([0.3, -0.7, 0.25], [1.1, -0.5, np.pi])
    sep = cv.separability(kernel)
    np.testing.assert_allclose(sep.scale * cv.outer(sep.column, sep.row), kernel, atol=1e-12)
    negated = cv.separability(-cv.KERNEL_PRESETS["sobel_x"])
    assert negated.column.tolist() == [1, 2, 1] and negated.row.tolist() == [1, 0, -1]


def test_sums_are_written_with_real_minus_signs_and_no_negative_zero():
    assert cv.signed_sum([2.0, -2.0, -0.0, 1e-17 * -1, 5.0]) == "2 − 2 + 0 + 0 + 5"
    assert cv.signed_sum([-1.5, 3.0]) == "−1.5 + 3"
    assert cv.number(-0.0) == "0" and cv.number(-3.0) == "−3"
    products = [p for _, _, p in cv.step(cv.FIG2_INPUT, cv.SHARPEN, 2).products]
    assert "+ -" not in cv.signed_sum(products) and "-0" not in cv.signed_sum(products)
