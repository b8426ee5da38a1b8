"""Atomic writes: the target holds the old content or the new, and no temporary file is left behind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lib.atomic import write_atomically, write_bytes_atomically


def test_a_new_file_is_written_with_its_folder_and_ordinary_permissions(tmp_path):
    target = tmp_path / "deep" / "er" / "result.json"
    write_bytes_atomically(target, json.dumps({"psnr": 19.5}).encode())
    assert json.loads(target.read_text()) == {"psnr": 19.5}
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "images.npy"
    write_atomically(target, lambda fh: np.save(fh, np.arange(4)))

    def half_then_fail(fh) -> None:
        fh.write(b"\x93NUMPY half a header")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_fail)
    np.testing.assert_array_equal(np.load(target), np.arange(4))
    assert [p.name for p in tmp_path.iterdir()] == ["images.npy"]


def test_two_targets_in_one_folder_do_not_share_a_temporary_name(tmp_path):
    seen = []  # the folder's contents while each file is being written
    for name in ("a.npz", "b.npz"):
        write_atomically(tmp_path / name, lambda fh: seen.append(sorted(p.name for p in tmp_path.iterdir())))
    (during_a,), during_b = seen[0], [n for n in seen[1] if n != "a.npz"]
    assert during_a.startswith(".a.npz.") and during_a.endswith(".tmp")
    assert len(during_b) == 1 and during_b[0].startswith(".b.npz.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]
