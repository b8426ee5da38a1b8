"""torchrun: two real processes on 127.0.0.1 train one model with DistributedDataParallel over gloo."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from deploy.serve import free_port
from lib import checkpoint as ck
from lib import distributed
from lib.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


def torchrun(out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`torchrun --nproc-per-node 2 -m lib train …` on CPU, rendezvous on loopback only."""
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
        "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
        "-m", "lib", "train", "--device", "cpu", "--limit", "300", "--epochs", "2", "--batch-size", "32",
        "--val-size", "100", "--test-limit", "50", "--threads", "1", "--quiet", "--out", str(out), *extra,
    ]  # fmt: skip
    env = os.environ | {"GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def two_process_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "ddp.pt"
    done = torchrun(out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def test_two_processes_end_with_one_loadable_checkpoint(two_process_run):
    out, done = two_process_run
    loaded = ck.load(out)  # strict load into the Table 1 model
    assert loaded.train["processes"] == 2
    assert loaded.history[-1]["epoch"] == 2.0
    assert {"test_gaussian_psnr", "test_speckle_psnr"} <= set(loaded.metrics)
    assert loaded.build()(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 28, 28)
    assert not list(out.parent.glob("*.tmp"))  # the atomic write left no temporary file
    assert done.stdout.count('"out"') == 1  # only rank 0 reports and writes


def test_the_two_processes_saw_disjoint_digits(two_process_run):
    loaded = ck.load(two_process_run[0])
    assert loaded.train["digits_per_process"] == [150, 150]  # 300 digits, half each
    assert loaded.train["digits_seen_twice_in_an_epoch"] == 0
    assert loaded.train["images_seen"] == 2 * 300  # 2 epochs × both shares


def test_a_distributed_run_is_reproducible(two_process_run, tmp_path):
    again = tmp_path / "again.pt"
    done = torchrun(again)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = ck.load(two_process_run[0]).state_dict, ck.load(again).state_dict
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_one_process_needs_no_process_group(train_digits):
    assert not distributed.launched_by_torchrun()
    assert distributed.rank_and_world() == (0, 1)
    assert distributed.check_disjoint(torch.arange(5)) == ([5], 0)
    result = train(TrainConfig(epochs=1, batch_size=64, limit=128), _noise(), train_digits)
    assert result.train["processes"] == 1 and "digits_per_process" not in result.train


def _noise():
    from lib.noise import preset

    return preset("B")
