"""The computation behind the pages, tested without Streamlit."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib import anatomy, i18n
from lib.compare import section5, section5_finding
from lib.convolution import transposed_overlap
from lib.lab import example_indices, make_triples
from lib.models import Table1Config, build_model
from lib.noise import NoiseConfig, preset


@pytest.fixture(scope="module")
def table1_model():
    torch.manual_seed(0)
    return build_model(Table1Config()).eval()


def test_triples_are_seeded_and_scored(table1_model, test_digits):
    idx = example_indices(4, 0, len(test_digits))
    assert len(set(idx.tolist())) == 4
    a = make_triples(table1_model, test_digits.images[idx], preset("B"), 3)
    b = make_triples(table1_model, test_digits.images[idx], preset("B"), 3)
    c = make_triples(table1_model, test_digits.images[idx], preset("B"), 4)
    np.testing.assert_array_equal(a.noisy, b.noisy)
    assert not np.array_equal(a.noisy, c.noisy)
    assert a.cleaned.shape == (4, 28, 28)
    assert a.noisy.min() >= 0 and a.noisy.max() <= 1
    assert a.noisy_raw.min() < 0  # before clipping
    assert 0 < a.clipped_share() < 1
    assert set(a.averages()) == {"psnr_noisy", "psnr_cleaned", "ssim_noisy", "ssim_cleaned"}


def test_unclipped_lab_feeds_out_of_range_values(table1_model, test_digits):
    raw = make_triples(table1_model, test_digits.images[:2], NoiseConfig(kind="gaussian", clip=False), 0)
    assert raw.noisy.min() < 0


def test_layer_table_matches_torch_shapes_and_parameter_counts(table1_model):
    rows = anatomy.layer_table(table1_model, torch.rand(1, 1, 28, 28))
    convs = [r for r in rows if r.formula]
    assert [r.output_shape for r in convs] == [(32, 8, 8), (64, 6, 6), (32, 8, 8), (1, 28, 28)]
    assert [int(r.formula.rsplit("= ", 1)[1]) for r in convs] == [8, 6, 8, 28]
    assert sum(r.parameters for r in rows) == sum(p.numel() for p in table1_model.parameters())


def test_feature_maps_tiles_and_kernels(table1_model):
    outs = anatomy.stage_outputs(table1_model, torch.rand(1, 1, 28, 28))
    assert [tuple(o.shape) for _, o in outs] == [(32, 8, 8), (64, 6, 6), (32, 8, 8), (1, 28, 28)]
    mosaic = anatomy.tile(outs[0][1].numpy(), columns=8)
    assert mosaic.shape == (4 * 9 - 1, 8 * 9 - 1)
    kernels = anatomy.first_layer_kernels(table1_model)
    np.testing.assert_array_equal(kernels, table1_model.layer1[0].weight.detach().numpy()[:, 0])
    assert anatomy.decoder_of_blank(table1_model).shape == (28, 28)


@pytest.mark.parametrize("n,k,s", [(8, 7, 3), (4, 3, 2), (4, 4, 2), (5, 6, 3)])
def test_overlap_counts_equal_conv_transpose_of_ones(n, k, s):
    ref = F.conv_transpose2d(torch.ones(1, 1, n, n), torch.ones(1, 1, k, k), stride=s)[0, 0]
    np.testing.assert_array_equal(transposed_overlap(n, k, s), ref.numpy().astype(int))


def test_overlap_is_uneven_exactly_when_kernel_not_divisible_by_stride():
    def inner(n, k, s):
        counts = transposed_overlap(n, k, s)
        return counts[k:-k, k:-k]

    assert inner(8, 7, 3).min() != inner(8, 7, 3).max()
    assert inner(8, 6, 3).min() == inner(8, 6, 3).max()


def test_both_languages_have_the_same_keys_and_placeholders():
    ru, en = i18n.table("ru"), i18n.table("en")
    assert set(ru) == set(en)
    for key in ru:
        assert set(re.findall(r"{(\w+)", ru[key])) == set(re.findall(r"{(\w+)", en[key])), key


def _code_files() -> list[Path]:
    root = Path(__file__).resolve().parent.parent
    return [*root.glob("app_pages/*.py"), *root.glob("lib/**/*.py"), root / "streamlit_app.py"]


def _table_names() -> str:
    """The locale files' names as a regex alternative: a key starts with one of them and a dot."""
    return "|".join(re.escape(path.stem) for path in i18n.locale_files("en"))


def test_every_key_used_in_the_code_exists():
    used = set()
    # keys kept in tables and variables too ("draw.canvas_undo" in a dict), not only those passed to t() directly;
    # a file name such as "report.pdf" is not a key
    literal = re.compile(rf"""(?<![\w{{])["']((?:{_table_names()})\.[a-z0-9_.]*[a-z0-9_])["']""")
    for path in _code_files():
        text = path.read_text()
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+\.[a-z0-9_.]*[a-z0-9_])["']""", text))
        used |= {key for key in literal.findall(text) if not re.search(r"\.(json|pdf|docx|pt|png|csv|zip)$", key)}
    assert used, "the pattern found no key at all"
    missing = used - set(i18n.table("en"))
    assert not missing, missing


def test_every_key_built_with_an_f_string_matches_some_key():
    keys = set(i18n.table("en"))
    patterns = set()
    # f-strings passed to t() and those kept for later (lib.lab's notes), and "prefix." + name concatenations
    built = re.compile(rf"""\bf(["'])((?:{_table_names()})\.(?:(?!\1).)*)\1""")
    joined = re.compile(rf"""["']((?:{_table_names()})\.[a-z0-9_.]*\.)["']\s*\+""")
    for path in _code_files():
        text = path.read_text()
        found = re.findall(r"""\bt\(\s*f(["'])((?:(?!\1).)*)\1""", text) + built.findall(text)
        patterns |= {body for _quote, body in found if "{" in body}
        patterns |= {prefix + "{name}" for prefix in joined.findall(text)}
    assert patterns, "the pattern found no f-string key at all"
    unmatched = []
    for pattern in patterns:
        literal_parts = re.split(r"\{[^}]*\}", pattern)
        regex = "[a-z0-9_.]+".join(re.escape(part) for part in literal_parts)
        if not any(re.fullmatch(regex, key) for key in keys):
            unmatched.append(pattern)
    assert not unmatched, unmatched


def test_default_language_from_browser_locale():
    assert i18n.default_language("ru-RU") == "ru"
    assert i18n.default_language("en-US") == "en"
    assert i18n.default_language(None) == "ru"
    assert i18n.t("lab.caption_label", "en", label=7, index=3) == "digit 7 · #3"


def test_section5_numbers_and_finding():
    rows = [
        {"group": g, "kind": k, "method": m, "psnr": v}
        for (g, k, m, v) in [
            ("A", "gaussian", "table1_A", 30.0), ("A", "gaussian", "table1_B", 29.0),
            ("B", "gaussian", "table1_A", 20.0), ("B", "gaussian", "table1_B", 26.0),
        ]
    ]  # fmt: skip
    table = section5(rows, "table1_A", "table1_B")
    assert table["table1_B"]["B/gaussian"] == 26.0
    diff = section5_finding(table, "table1_A", "table1_B")
    assert diff == {"A/gaussian": -1.0, "B/gaussian": 6.0}


def test_shipped_comparison_file_is_complete():
    path = Path(__file__).resolve().parent.parent / "weights" / "compare.json"
    data = json.loads(path.read_text())
    methods = {r["method"] for r in data["rows"]}
    assert {"noisy", "table1_A", "table1_B", "linear_B", "median3", "gaussian_blur", "nl_means", "bm3d"} <= methods
    assert len(data["sweep"]["gaussian_var"]["x"]) == len(data["sweep"]["gaussian_var"]["series"]["table1_B"])


def test_locale_tables_merge_topic_files_and_reject_repeated_keys(tmp_path, monkeypatch):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "b.json").write_text('{"b.two": "2"}', encoding="utf-8")
    (tmp_path / "en" / "a.json").write_text('{"a.one": "1"}', encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.table.cache_clear()
    try:
        assert [p.name for p in i18n.locale_files("en")] == ["a.json", "b.json"]
        assert i18n.table("en") == {"a.one": "1", "b.two": "2"}
        (tmp_path / "en" / "c.json").write_text('{"a.one": "again"}', encoding="utf-8")
        i18n.table.cache_clear()
        with pytest.raises(ValueError, match="a.one"):
            i18n.table("en")
    finally:
        i18n.table.cache_clear()


def test_every_locale_file_holds_only_keys_named_after_it():
    names = {}
    for lang in i18n.LANGUAGES:
        files = i18n.locale_files(lang)
        assert files, lang
        assert all(path.parent == i18n.LOCALE_DIR / lang for path in files)
        names[lang] = [path.stem for path in files]
        for path in files:
            keys = json.loads(path.read_text(encoding="utf-8"))
            assert keys, path.name
            stray = [key for key in keys if not key.startswith(f"{path.stem}.")]
            assert not stray, f"{lang}/{path.name}: {stray}"
    assert names["ru"] == names["en"]
    assert not list(i18n.LOCALE_DIR.glob("*.json")), "a table outside the language folders is never read"
