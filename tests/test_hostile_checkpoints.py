"""Hostile checkpoints: each is refused by the loader, the CLI (memory measured) and the Train page, in the UI's language."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import checkpoint as ck
from lib.i18n import t
from lib.safe_names import markdown_text
from tests.hostile import archive, good_payload, write_corpus

ROOT = Path(__file__).resolve().parent.parent
PEAK_LIMIT_KB = 1_500_000  # 1.5 GB
# The files whose reading would allocate most if it were not checked first go through the CLI.
WORST = ("tensor_bomb.pt", "tensor_bomb_in_weights.pt", "config_bomb_linear.pt", "config_bomb_linear_30000.pt",
         "config_bomb_unet.pt", "pickle_os_system.pt", "history_nested.pt", "weights_nan.pt")  # fmt: skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "payload_ran"
    return write_corpus(folder, marker), marker


def test_the_hand_written_archive_is_one_torch_and_the_loader_read():
    import io

    import torch

    data = archive(good_payload())
    theirs = torch.load(io.BytesIO(data), weights_only=True)
    ours = ck.load_bytes(data, "good.pt")
    assert theirs["model_config"]["name"] == ours.model_config.name == "table1"
    for key, tensor in theirs["state_dict"].items():
        torch.testing.assert_close(ours.state_dict[key], tensor, rtol=0, atol=0)


def test_every_hostile_file_is_refused_with_a_translated_one_line_message(hostile):
    files, marker = hostile
    assert len(files) >= 40
    for name, (path, keys) in files.items():
        with pytest.raises(ck.CheckpointError) as caught:
            ck.load(path)
        exc = caught.value
        assert exc.key in keys, (name, exc.key, str(exc))
        assert str(exc).startswith(f"{name}: ") and "\n" not in str(exc)
        ru, en = exc.text("ru"), exc.text("en")
        assert ru != en and not ru.startswith("ckpt.") and not en.startswith("ckpt.") and name in ru
        assert "Traceback" not in ru and "object at 0x" not in str(exc)
    assert not marker.exists()  # no pickle payload ran


def test_shipped_weights_still_load():
    for path in sorted((ROOT / "weights").rglob("*.pt")):
        loaded = ck.load(path)
        assert loaded.state_dict and loaded.history


def test_a_torchrun_training_record_loads():
    payload = good_payload()
    payload["train_config"] |= {"digits_per_process": [29000, 29000], "digits_seen_twice_in_an_epoch": 0,
                                "limit": None, "schedule": "onecycle", "images_per_s": 1085.3}  # fmt: skip
    loaded = ck.load_bytes(archive(payload), "ddp.pt")
    assert loaded.train["digits_per_process"] == [29000, 29000]
    payload["train_config"]["digits_per_process"] = [[1, 2]]  # nested: not a record the app writes
    with pytest.raises(ck.CheckpointError) as caught:
        ck.load_bytes(archive(payload), "nested.pt")
    assert caught.value.key == "bad_metadata"


def test_the_parameter_bound_refuses_before_building():
    payload = good_payload() | {"model_config": {"name": "linear", "hidden": [4000, 4000, 4000]}}
    with pytest.raises(ck.CheckpointError) as caught:
        ck.load_bytes(archive(payload), "big.pt")
    assert caught.value.key == "too_many_params" and caught.value.params["count"] > ck.MAX_PARAMETERS


def test_a_file_over_the_limit_is_refused_unread(tmp_path):
    with pytest.raises(ck.CheckpointError) as caught:
        ck.load_bytes(archive(good_payload()), "m.pt", max_bytes=100)
    assert caught.value.key == "file_too_big"


def _run_cli(args: list[str]) -> tuple[int, str, int]:
    """`python -m lib ARGS` in a child process: exit status, stderr and the child's own peak memory (kB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "lib", *args], cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's rusage alone (ru_maxrss in kB on Linux)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return proc.returncode, err.read().decode(), usage.ru_maxrss


def test_the_cli_refuses_the_worst_files_in_one_line_with_bounded_memory(hostile, tmp_path):
    files, marker = hostile
    for name in WORST:
        path, keys = files[name]
        code, err, peak_kb = _run_cli(["evaluate", "--weights", str(path), "--limit", "5", "--no-baselines"])
        assert code == 2, (name, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {name}: "), (name, err)
        assert "Traceback" not in err and "object at 0x" not in err
        assert peak_kb <= PEAK_LIMIT_KB, (name, peak_kb)
    assert not marker.exists()


def test_the_cli_refuses_every_file_in_one_line(hostile, capsys):
    from lib.cli import main

    files, _ = hostile
    for name, (path, _keys) in files.items():
        assert main(["evaluate", "--weights", str(path), "--limit", "5", "--no-baselines"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {name}: "), (name, err)


def _resident_kb() -> int:
    """This process's resident memory now (kB)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


SOME = ("tensor_bomb.pt", "config_bomb_linear.pt", "pickle_os_system.pt", "weights_nan.pt", "history_not_a_list.pt",
        "config_kernel_text.pt")  # fmt: skip


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_train_page_refuses_hostile_uploads_in_the_students_language(hostile, lang):
    """Russian: every file of the corpus; English: a few. Refused, in the language, escaped, and nothing kept."""
    files, marker = hostile
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["keep_lang"] = lang
    at.run()
    at.switch_page("app_pages/train.py")
    at.run()
    models_before = set(at.session_state["session_models"]) if "session_models" in at.session_state else set()
    resident_before = _resident_kb()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name in sorted(files) if lang == "ru" else SOME:
        path, keys = files[name]
        at.file_uploader(key="train_load_weights").set_value((name, path.read_bytes(), "application/octet-stream"))
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.error) == 1, name
        shown = at.error[0].value
        assert shown.startswith(t("train.load_failed", lang, error="").strip()), shown
        assert markdown_text(name) in shown  # the name is escaped for Markdown
        assert "Traceback" not in shown and "ckpt." not in shown and "object at 0x" not in shown
        after = set(at.session_state["session_models"]) if "session_models" in at.session_state else set()
        assert after == models_before  # nothing was added to the picker
    assert not marker.exists()
    # Nothing was allocated for the files' claims (a tensor bomb alone claims 4 GB) and nothing stayed behind.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before <= 300_000
    assert _resident_kb() - resident_before <= 300_000
