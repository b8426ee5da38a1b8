import pytest
import torch
import torch.nn.functional as F

from lib.models import (
    REGISTRY,
    LinearConfig,
    Table1Config,
    build_model,
    config_from_dict,
    config_to_dict,
    count_parameters,
    default_config,
)


def conv_out(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def convT_out(n, k, s=1, p=0, op=0):
    return (n - 1) * s - 2 * p + k + op


def test_table1_layer_shapes_follow_table_1_and_the_size_formulas():
    model = build_model(Table1Config()).eval()
    x = torch.rand(5, 1, 28, 28)
    shapes = []
    out = x
    for _, layer in model.stages():
        out = layer(out)
        shapes.append(tuple(out.shape))
    assert shapes == [(5, 32, 8, 8), (5, 64, 6, 6), (5, 32, 8, 8), (5, 1, 28, 28)]
    assert conv_out(28, 7, 3) == 8 and conv_out(8, 3) == 6 and convT_out(6, 3) == 8 and convT_out(8, 7, 3) == 28
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_table1_layer_order_is_appendix_1():
    model = build_model(Table1Config())
    kinds = [type(m).__name__ for m in model.layer1]
    assert kinds == ["Conv2d", "ReLU", "BatchNorm2d", "Dropout"]
    assert model.layer1[3].p == pytest.approx(0.2)
    assert [type(m).__name__ for m in model.layer01] == ["ConvTranspose2d", "Sigmoid"]
    conv = model.layer1[0]
    assert (conv.kernel_size, conv.stride, conv.out_channels) == ((7, 7), (3, 3), 32)


def test_table1_first_layer_is_torch_conv2d():
    model = build_model(Table1Config()).eval()
    x = torch.rand(2, 1, 28, 28)
    conv = model.layer1[0]
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight, conv.bias, stride=3))


def test_linear_model_shapes_and_no_convolutions():
    model = build_model(LinearConfig()).eval()
    out = model(torch.rand(3, 1, 28, 28))
    assert out.shape == (3, 1, 28, 28)
    assert not any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    widths = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [256, 128, 64, 128, 256, 784]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_few_training_steps_reduce_the_loss(name, train_digits):
    torch.manual_seed(0)
    model = build_model(default_config(name))
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    clean = train_digits.images[:256].float().unsqueeze(1) / 255
    noisy = (clean + 0.2 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    losses = []
    for _ in range(30):
        loss = F.mse_loss(model(noisy), clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5


def test_config_round_trip_and_unknown_names():
    cfg = LinearConfig(hidden=(128, 32))
    assert config_from_dict(config_to_dict(cfg)) == cfg
    assert config_from_dict({"name": "linear", "hidden": [128, 32]}) == cfg
    with pytest.raises(ValueError, match="unknown model"):
        config_from_dict({"name": "resnet"})
    with pytest.raises(ValueError, match="unknown fields"):
        config_from_dict({"name": "table1", "colour": 3})
    assert count_parameters(build_model(Table1Config())) > count_parameters(build_model(Table1Config(channels2=32)))


def test_seeded_dropout_is_reproducible_and_scales_like_nn_dropout():
    from lib.models import Dropout

    drop = Dropout(0.2).train()
    x = torch.ones(20000)
    drop.generator = torch.Generator().manual_seed(0)
    a = drop(x)
    drop.generator = torch.Generator().manual_seed(0)
    assert torch.equal(a, drop(x))
    assert set(a.unique().tolist()) == {0.0, 1.25}
    assert (a == 0).float().mean().item() == pytest.approx(0.2, abs=0.01)
    drop.generator = None
    torch.manual_seed(0)
    plain = drop(x)
    torch.manual_seed(0)
    torch.testing.assert_close(plain, torch.nn.Dropout(0.2).train()(x))
    assert torch.equal(drop.eval()(x), x)


def test_init_weights_uses_default_bounds_and_the_generator():
    from lib.models import init_weights

    a = init_weights(build_model(Table1Config()), torch.Generator().manual_seed(4))
    b = build_model(Table1Config(), torch.Generator().manual_seed(4))  # built on meta, then initialised
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.equal(p, q), name
    assert torch.equal(b.layer1[2].running_var, torch.ones(32)) and torch.equal(b.layer1[2].weight, torch.ones(32))
    assert int(b.layer1[2].num_batches_tracked) == 0
    conv = a.layer2[0]
    bound = 1 / (32 * 9) ** 0.5
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound


def test_fast_dropout_mask_rate_scale_layout_and_seed():
    from lib.models import keep_mask

    x = torch.ones(64, 32, 8, 8).contiguous(memory_format=torch.channels_last)
    a = keep_mask(x, 0.2, torch.Generator().manual_seed(3))
    b = keep_mask(x, 0.2, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert a.stride() == x.stride()  # no layout change, so no copy back to channels_last
    assert set(a.unique().tolist()) == {0.0, 1.25}
    n = a.numel()
    dropped = float((a == 0).float().mean())
    assert abs(dropped - 0.2) < 4 * (0.2 * 0.8 / n) ** 0.5  # binomial: within 4 standard deviations
    assert float(a.mean()) == pytest.approx(1.0, abs=0.01)  # E[mask] = 1, as nn.Dropout keeps it
    for c in range(4):  # each 16-bit lane of a random word is a fair coin too
        lane = (a.flatten().view(-1, 4)[:, c] == 0).float().mean()
        assert abs(float(lane) - 0.2) < 4 * (0.2 * 0.8 / (n / 4)) ** 0.5
    odd = keep_mask(torch.ones(7, 3), 0.5, torch.Generator().manual_seed(0))  # numel not a multiple of 4
    assert odd.shape == (7, 3) and set(odd.unique().tolist()) <= {0.0, 2.0}


@pytest.mark.parametrize(
    ("c_in", "c_out", "k", "s", "h"), [(32, 1, 7, 3, 8), (64, 32, 3, 1, 6), (3, 2, 5, 2, 4), (2, 3, 4, 4, 3)]
)
def test_conv_transpose_as_conv_equals_conv_transpose2d(c_in, c_out, k, s, h):
    from bench.conv_phases import conv_transpose_as_conv

    g = torch.Generator().manual_seed(0)
    layer = torch.nn.ConvTranspose2d(c_in, c_out, k, s)
    x = torch.randn(5, c_in, h, h + 1, generator=g, requires_grad=True)
    ref = layer(x)
    torch.testing.assert_close(ref, F.conv_transpose2d(x, layer.weight, layer.bias, s))
    got = conv_transpose_as_conv(x, layer.weight, layer.bias, s)
    assert got.shape == ref.shape
    assert float((got - ref).detach().abs().max()) < 1e-5
    up = torch.randn(ref.shape, generator=g)
    grads_ref = torch.autograd.grad((ref * up).sum(), (x, layer.weight, layer.bias))
    grads_got = torch.autograd.grad((got * up).sum(), (x, layer.weight, layer.bias))
    for a, b in zip(grads_ref, grads_got):
        assert float((a - b).abs().max()) < 1e-4  # gradients reach the layer's own weight and bias
