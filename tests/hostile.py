"""A corpus of hostile checkpoints, written the way torch.save lays out its archive but by hand.

Writing the archive here (instead of torch.save) lets a file describe tensors that never exist in
memory: a 10⁹-element tensor is a deflated stream of zeros, compressed once in 16 MB pieces and
repeated, so making it costs seconds and a few MB, not 4 GB. `python -m tests.hostile FOLDER` writes
the corpus to a folder (docs/security.md measures the CLI on it).
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lib.checkpoint import Checkpoint
from lib.models import BiasFreeUNetConfig, LinearConfig, Table1Config, build_model, config_to_dict
from lib.noise import preset

STORAGE_CLASS = {torch.float32: torch.FloatStorage, torch.int64: torch.LongStorage}
PIECE = 1 << 24  # zeros compressed per piece of a huge storage


@dataclass(frozen=True)
class Fake:
    """A tensor record that says what the file claims: its shape, strides, storage size and (optional) bytes."""

    shape: tuple[int, ...]
    stride: tuple[int, ...]
    numel: int  # the storage's element count as written in the pickle
    dtype: torch.dtype = torch.float32
    stored: int | None = None  # bytes of the archive entry (default: numel × item size, all zeros)


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: torch.dtype
    numel: int


class _Pickler(pickle.Pickler):
    """Pickles tensors and Fakes as torch.save does: _rebuild_tensor_v2 over a persistent storage reference."""

    def __init__(self, fh: io.BytesIO) -> None:
        super().__init__(fh, protocol=2)
        self.storages: list[tuple[str, Any]] = []  # (key, tensor or Fake)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, torch.Tensor | Fake):
            key = str(len(self.storages))
            self.storages.append((key, obj))
            if isinstance(obj, Fake):
                ref = _StorageRef(key, obj.dtype, obj.numel)
                shape, stride = obj.shape, obj.stride
            else:
                obj = obj.detach().contiguous()
                self.storages[-1] = (key, obj)
                ref = _StorageRef(key, obj.dtype, obj.numel())
                shape, stride = tuple(obj.shape), tuple(obj.stride())
            return torch._utils._rebuild_tensor_v2, (ref, 0, shape, stride, False, collections.OrderedDict())
        return NotImplemented

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _StorageRef):
            return ("storage", STORAGE_CLASS[obj.dtype], obj.key, "cpu", obj.numel)
        return None


class _RepeatingDeflate:
    """A deflate 'compressor' for zeros: each piece is compressed once (ending on a full flush) and repeated."""

    def __init__(self) -> None:
        self.blocks: dict[int, bytes] = {}

    def compress(self, data: bytes) -> bytes:
        if len(data) not in self.blocks:
            one = zlib.compressobj(9, zlib.DEFLATED, -15)
            self.blocks[len(data)] = one.compress(data) + one.flush(zlib.Z_FULL_FLUSH)
        return self.blocks[len(data)]

    def flush(self) -> bytes:
        return b"\x03\x00"  # an empty final block ends the stream


def _zeros_entry(zf: zipfile.ZipFile, name: str, size: int) -> None:
    """An archive entry of `size` zero bytes, deflated, written without ever holding more than one piece."""
    piece = bytes(PIECE)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=size > 2**31) as fh:
        fh._compressor = _RepeatingDeflate()  # zipfile still computes the true CRC of the 4 GB
        for start in range(0, size, PIECE):
            fh.write(piece[: min(PIECE, size - start)])


def archive(payload: Any, raw_pickle: bytes | None = None) -> bytes:
    """The payload as a torch-style zip archive (archive/data.pkl, archive/data/<n>); raw_pickle replaces data.pkl."""
    buf = io.BytesIO()
    pickled = io.BytesIO()
    pickler = _Pickler(pickled)
    if raw_pickle is None:
        pickler.dump(payload)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", raw_pickle if raw_pickle is not None else pickled.getvalue())
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/version", "3\n")
        for key, obj in pickler.storages:
            name = f"archive/data/{key}"
            if isinstance(obj, Fake):
                size = obj.stored if obj.stored is not None else obj.numel * obj.dtype.itemsize
                _zeros_entry(zf, name, size)
            else:
                zf.writestr(name, obj.numpy().tobytes())
    return buf.getvalue()


def good_payload(config: Any = None) -> dict[str, Any]:
    """A valid checkpoint payload of a small model."""
    config = config or Table1Config(channels1=4, channels2=4)
    model = build_model(config, torch.Generator().manual_seed(0))
    return Checkpoint(config, model.state_dict(), preset("B"), {"lr": 0.01, "augment": False, "device": "cpu"},
                      [{"epoch": 1.0, "train_loss": 0.03}], {"val_psnr": 22.0}).to_payload()  # fmt: skip


def _with(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return payload | changes


def _state_with(payload: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    return payload | {"state_dict": payload["state_dict"] | {key: value}}


def _pickle_payload(module: str, name: str, argument: str) -> bytes:
    """A pickle whose first act would be module.name(argument): PROTO 2, GLOBAL, the argument, TUPLE1, REDUCE."""
    text = argument.encode()
    return (b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\nX" + struct.pack("<I", len(text)) + text
            + b"\x85R.")  # fmt: skip


def corpus(marker: Path) -> dict[str, tuple[bytes, set[str]]]:
    """File name → (bytes, the CheckpointError keys that may refuse it). `marker` is a file a payload would create."""
    good = good_payload()
    weight = "layer1.0.weight"
    nan = good["state_dict"][weight].clone()
    nan[0, 0, 0, 0] = float("nan")
    inf = good["state_dict"][weight].clone()
    inf[-1, 0, -1, -1] = float("-inf")
    bomb = Fake((10**9,), (1,), 10**9)  # 4 GB of float32 zeros, about 4 MB deflated
    linear = config_to_dict(LinearConfig(hidden=(8000, 8000)))
    linear_huge = config_to_dict(LinearConfig()) | {"hidden": [30000, 30000]}
    unet = config_to_dict(BiasFreeUNetConfig(width=512))
    system = f"touch {marker}"
    items: dict[str, tuple[Any, set[str]]] = {
        "tensor_bomb.pt": (_with(good, extra=bomb), {"refused", "extra_keys"}),
        "tensor_bomb_in_weights.pt": (_state_with(good, weight, bomb), {"refused", "mismatch"}),
        "storage_lies.pt": (_state_with(good, weight, Fake((4, 1, 7, 7), (49, 49, 7, 1), 196, stored=8)), {"refused"}),
        "view_beyond_storage.pt": (_state_with(good, weight, Fake((4, 1, 7, 7), (49, 49, 7, 1), 10)), {"refused"}),
        "negative_shape.pt": (_state_with(good, weight, Fake((-4, 1, 7, 7), (49, 49, 7, 1), 196)), {"refused"}),
        "config_bomb_linear.pt": (_with(good, model_config=linear), {"too_many_params", "bad_config"}),
        "config_bomb_linear_30000.pt": (_with(good, model_config=linear_huge), {"too_many_params", "bad_config"}),
        "config_bomb_unet.pt": (_with(good, model_config=unet), {"too_many_params", "bad_config"}),
        "config_kernel_text.pt": (_with(good, model_config=good["model_config"] | {"kernel1": "x"}), {"bad_config"}),
        "config_zero_channels.pt": (_with(good, model_config=good["model_config"] | {"channels1": 0}), {"bad_config"}),
        "config_negative_width.pt": (_with(good, model_config=unet | {"width": -3}), {"bad_config"}),
        "config_empty_hidden.pt": (_with(good, model_config=linear | {"hidden": []}), {"bad_config"}),
        "config_bool_kernel.pt": (_with(good, model_config=good["model_config"] | {"kernel2": True}), {"bad_config"}),
        "config_nan_dropout.pt": (
            _with(good, model_config=good["model_config"] | {"dropout": float("nan")}),
            {"bad_config"},
        ),
        "config_not_a_table.pt": (_with(good, model_config=[1, 2, 3]), {"bad_config"}),
        "config_unknown_model.pt": (_with(good, model_config={"name": "resnet152"}), {"bad_config"}),
        "noise_text_variance.pt": (_with(good, noise_config=good["noise_config"] | {"var": "x"}), {"bad_noise"}),
        "noise_infinite_mean.pt": (_with(good, noise_config=good["noise_config"] | {"mean": math.inf}), {"bad_noise"}),
        "weights_nan.pt": (_state_with(good, weight, nan), {"not_finite"}),
        "weights_inf.pt": (_state_with(good, weight, inf), {"not_finite"}),
        "history_not_a_list.pt": (_with(good, history="not a list"), {"bad_metadata"}),
        "history_of_texts.pt": (_with(good, history=[{"epoch": "one"}]), {"bad_metadata"}),
        "history_of_numbers.pt": (_with(good, history=[1, 2, 3]), {"bad_metadata"}),
        "history_nan.pt": (_with(good, history=[{"epoch": 1.0, "train_loss": math.nan}]), {"bad_metadata"}),
        "history_nested.pt": (_with(good, history=[{"epoch": [[[[1]]]]}]), {"bad_metadata"}),
        "metrics_text.pt": (_with(good, metrics={"val_psnr": "high"}), {"bad_metadata"}),
        "train_config_tensor.pt": (_with(good, train_config={"lr": torch.zeros(3)}), {"bad_metadata"}),
        "format_version_text.pt": (_with(good, format_version="1"), {"version"}),
        "format_version_huge.pt": (_with(good, format_version=10**5000), {"version"}),
        "history_huge_int.pt": (_with(good, history=[{"epoch": 10**5000}]), {"bad_metadata"}),
        "config_huge_dropout.pt": (
            _with(good, model_config=good["model_config"] | {"dropout": 10**5000}),
            {"bad_config"},
        ),
        "weights_huge_key.pt": (
            _with(good, state_dict=good["state_dict"] | {10**5000: torch.zeros(1)}),
            {"mismatch", "not_app"},
        ),
        "extra_key.pt": (_with(good, notes="hello"), {"extra_keys"}),
        "extra_weight.pt": (_state_with(good, "evil", torch.zeros(3)), {"mismatch"}),
        "wrong_shape.pt": (_state_with(good, weight, torch.zeros(4, 1, 5, 5)), {"mismatch"}),
        "wrong_dtype.pt": (_state_with(good, weight, torch.zeros(4, 1, 7, 7, dtype=torch.int64)), {"mismatch"}),
        "state_not_a_table.pt": (_with(good, state_dict=[1, 2]), {"not_app"}),
        "plain_list.pt": ([1, 2, 3], {"not_app"}),
        "pickle_os_system.pt": (_pickle_payload("os", "system", system), {"refused"}),
        "pickle_posix_system.pt": (_pickle_payload("posix", "system", system), {"refused"}),
        "pickle_builtins_eval.pt": (_pickle_payload("builtins", "eval", f"open({str(marker)!r}, 'w')"), {"refused"}),
        "pickle_torch_load.pt": (_pickle_payload("torch", "load", str(marker)), {"refused"}),
    }
    out: dict[str, tuple[bytes, set[str]]] = {}
    for name, (payload, keys) in items.items():
        raw = payload if isinstance(payload, bytes) else None
        out[name] = (archive(None if raw else payload, raw_pickle=raw), keys)
    out["not_a_zip.pt"] = (b"this is not a checkpoint", {"unreadable"})
    out["empty.pt"] = (b"", {"unreadable"})
    whole = archive(good)
    out["truncated.pt"] = (whole[: len(whole) // 2], {"unreadable"})
    return out


def write_corpus(folder: Path, marker: Path) -> dict[str, tuple[Path, set[str]]]:
    """Every corpus file written into `folder`: name → (path, accepted refusal keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, (data, keys) in corpus(marker).items():
        path = folder / name
        path.write_bytes(data)
        written[name] = (path, keys)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1])
    for name, (path, _) in write_corpus(target, target / "payload_ran").items():
        print(f"{path.stat().st_size:>10}  {name}")
