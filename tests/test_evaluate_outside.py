"""`python -m lib evaluate --set …` and `python -m lib section5` on outside digits."""

import json

import numpy as np
import pytest

from lib import checkpoint as ck
from lib import outside
from lib.cli import main
from lib.compare import outside_findings
from lib.data import train_val_split
from lib.evaluate import eval_digits
from lib.models import BiasFreeUNetConfig
from lib.noise import preset
from lib.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, train_digits):
    tr, _ = train_val_split(train_digits, 100)
    folder = tmp_path_factory.mktemp("w")
    paths = {}
    for name, cfg in (("bfunet", BiasFreeUNetConfig(width=4)), ("table1", None)):
        config = TrainConfig(model=name, epochs=1, limit=256, batch_size=64, stop_loss=0, augment=True)
        paths[name] = ck.save(train(config, preset("B"), tr, model_config=cfg), folder / f"{name}.pt")
    return paths


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_on_the_outside_set(capsys, tiny):
    out = run_json(capsys, "evaluate", "--weights", str(tiny["bfunet"]), "--set", "outside", "--no-baselines",
                   "--noise", "B", "--json", "--device", "cpu")  # fmt: skip
    assert out["set"] == "outside"
    by = {(r["noise"], r["method"]): r for r in out["rows"]}
    assert {r["n"] for r in out["rows"]} == {450}
    assert set(by) == {
        ("gaussian", "noisy input"), ("gaussian", "model (bfunet)"), ("speckle", "noisy input"),
        ("speckle", "model (bfunet)"), ("none", "model (bfunet)"),
    }  # fmt: skip
    # The same noisy inputs as lib.evaluate makes them: the noisy-input score is reproducible.
    again = run_json(capsys, "evaluate", "--weights", str(tiny["bfunet"]), "--set", "outside", "--no-baselines",
                     "--noise", "B", "--json", "--device", "cpu")  # fmt: skip
    assert again["rows"] == out["rows"]


def test_evaluate_one_writer_with_a_limit(capsys, tiny):
    out = run_json(capsys, "evaluate", "--weights", str(tiny["table1"]), "--set", "outside:font", "--limit", "20",
                   "--no-baselines", "--json", "--device", "cpu")  # fmt: skip
    assert {r["n"] for r in out["rows"]} == {20}
    noisy = next(r for r in out["rows"] if r["noise"] == "gaussian" and r["method"] == "noisy input")
    fonts = eval_digits("outside:font").images[:20].numpy()
    assert 15.0 < noisy["psnr"] < 40.0 and fonts.shape == (20, 28, 28)


def test_evaluate_a_folder_of_pictures(capsys, tiny, tmp_path):
    rng = np.random.default_rng(0)
    for digit in (1, 4, 9):
        outside.picture("photo", digit, rng).save(tmp_path / f"{digit}.jpg")
    out = run_json(capsys, "evaluate", "--weights", str(tiny["bfunet"]), "--set", str(tmp_path), "--no-baselines",
                   "--json", "--device", "cpu")  # fmt: skip
    assert {r["n"] for r in out["rows"]} == {3}


@pytest.mark.parametrize("bad", ["outside:crayon", "no/such/folder"])
def test_evaluate_a_bad_set_is_a_one_line_error(capsys, tiny, bad):
    assert main(["evaluate", "--weights", str(tiny["table1"]), "--set", bad, "--no-baselines"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_section5_command_writes_rows_and_findings(capsys, tiny, tmp_path):
    out_path = tmp_path / "s5.json"
    assert main(["section5", "--weights", str(tiny["table1"]), str(tiny["bfunet"]), "--limit", "30",
                 "--out", str(out_path), "--device", "cpu"]) == 0  # fmt: skip
    result = json.loads(out_path.read_text())
    sets = {r["set"] for r in result["rows"]}
    assert sets == {"outside", "outside:pen", "outside:font", "outside:photo", "mnist"}
    assert {r["n"] for r in result["rows"] if r["set"] == "mnist"} == {30}
    assert {r["n"] for r in result["rows"] if r["set"] == "outside:pen"} == {150}
    found = result["findings"]["outside"]
    table1_g = next(
        r["psnr"] for r in result["rows"] if (r["set"], r["kind"], r["method"]) == ("outside", "gaussian", "table1")
    )
    noisy_g = next(
        r["psnr"] for r in result["rows"] if (r["set"], r["kind"], r["method"]) == ("outside", "gaussian", "noisy")
    )
    assert found["over_noisy"]["table1"]["gaussian"] == pytest.approx(table1_g - noisy_g)
    assert found["clean_change"]["bfunet"] > found["clean_change"]["table1"]


def test_findings_compare_architectures_and_groups():
    rows = []
    values = {"noisy": 20.0, "linear_A": 18.0, "linear_B": 19.0, "table1_A": 21.0, "table1_B": 23.0}
    for kind in ("gaussian", "speckle"):
        for method, value in values.items():
            rows.append({"set": "outside", "kind": kind, "method": method, "psnr": value})
    found = outside_findings(rows)
    assert found["conv_gain"] == {"A": pytest.approx(3.0), "B": pytest.approx(4.0)}
    assert found["group_b_gain"] == {"linear": pytest.approx(1.0), "table1": pytest.approx(2.0)}
    assert found["over_noisy"]["linear_A"]["speckle"] == pytest.approx(-2.0)
