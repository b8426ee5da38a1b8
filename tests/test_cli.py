import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from lib import checkpoint as ck
from lib.cli import build_parser, main


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "tiny.pt"
    code = main(
        [
            "train",
            "--model",
            "table1",
            "--noise",
            "B",
            "--epochs",
            "1",
            "--limit",
            "256",
            "--batch-size",
            "64",
            "--val-size",
            "100",
            "--test-limit",
            "50",
            "--out",
            str(out),
            "--quiet",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    return out


def test_train_writes_a_checkpoint_with_history_and_test_metrics(tiny_weights):
    loaded = ck.load(tiny_weights)
    assert loaded.model_config.name == "table1"
    assert loaded.noise.mean == -20.0
    assert len(loaded.history) == 1
    assert {"test_gaussian_psnr", "test_speckle_psnr", "test_gaussian_ssim"} <= set(loaded.metrics)
    assert loaded.train["limit"] == 256


def test_train_takes_the_table1_model_by_its_former_name_too():
    parse = build_parser().parse_args
    assert parse(["train", "--out", "m.pt"]).model == "table1"
    assert parse(["train", "--model", "seed", "--out", "m.pt"]).model == "table1"
    assert parse(["train", "--model", "table1", "--seed", "3", "--out", "m.pt"]).seed == 3  # the random seed
    with pytest.raises(SystemExit):
        parse(["train", "--model", "seeds", "--out", "m.pt"])


def test_evaluate_prints_model_and_baselines_as_json(tiny_weights, capsys):
    code = main(["evaluate", "--weights", str(tiny_weights), "--limit", "20", "--bm3d-limit", "2", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    methods = {(r["noise"], r["method"]) for r in rows}
    for kind in ("gaussian", "speckle"):
        for m in ("noisy input", "model (table1)", "median3", "gaussian_blur", "nl_means", "bm3d"):
            assert (kind, m) in methods
    assert [r["n"] for r in rows if r["method"] == "bm3d"] == [2, 2]


def test_evaluate_reports_a_broken_weights_file(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nope")
    assert main(["evaluate", "--weights", str(bad)]) == 2
    assert "bad.pt" in capsys.readouterr().err


def test_denoise_writes_triples_and_csv_and_reports_broken_files(tiny_weights, tmp_path, test_digits, capsys):
    good = tmp_path / "seven.png"
    big = Image.fromarray(255 - test_digits.images[0].numpy()).resize((140, 140))
    big.save(good)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    code = main(
        [
            "denoise",
            "--weights",
            str(tiny_weights),
            "--noise",
            "B",
            "--seed",
            "3",
            str(good),
            str(broken),
            "--out",
            str(out),
        ]
    )
    assert code == 1  # one file failed
    assert "broken.jpg" in capsys.readouterr().err
    for suffix in ("original", "noisy", "cleaned"):
        img = Image.open(out / f"seven_{suffix}.png")
        assert img.size == (28, 28)
    rows = list(csv.DictReader(io.StringIO((out / "metrics.csv").read_text())))
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert float(rows[0]["psnr_cleaned"]) > 0
    noisy = np.asarray(Image.open(out / "seven_noisy.png"))
    original = np.asarray(Image.open(out / "seven_original.png"))
    assert not np.array_equal(noisy, original)


def test_denoise_without_noise_keeps_the_input(tiny_weights, tmp_path, test_digits):
    path = tmp_path / "d.png"
    Image.fromarray(test_digits.images[1].numpy()).save(path)
    assert main(["denoise", "--weights", str(tiny_weights), "--no-noise", str(path), "--out", str(tmp_path / "o")]) == 0
    a = np.asarray(Image.open(tmp_path / "o" / "d_noisy.png"))
    b = np.asarray(Image.open(tmp_path / "o" / "d_original.png"))
    assert np.array_equal(a, b)
