"""Checkpoints: weights + model config + noise config + history + metrics, in one .pt file.

A checkpoint may come from anyone (a student's upload), so reading one validates before it allocates:
the archive's record of every tensor (dtype, shape, storage size) is read from its pickle by an
unpickler that knows only the handful of names torch writes and creates no tensor; the config's types,
ranges and parameter count are checked and the model is built on the `meta` device (no memory) to
compare names and shapes; only then are the tensors read, each exactly as large as the model needs,
and checked for NaN and infinity. See docs/security.md for the bounds.
"""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lib.atomic import write_bytes_atomically
from lib.i18n import t
from lib.model_names import canonical_model
from lib.models import REGISTRY, build_model, config_to_dict
from lib.noise import NOISE_KINDS, NoiseConfig
from lib.safe_names import clean_name

FORMAT_VERSION = 1
MAX_PARAMETERS = 10_000_000  # numbers in a model's state (weights and BatchNorm statistics): 40 MB of float32
MAX_FILE_BYTES = 64 * 10**6  # a checkpoint file (the largest allowed model, 40 MB, plus its records)
MAX_PICKLE_BYTES = 10**6  # the archive's data.pkl: configs, history and tensor records (a few kB in practice)
MAX_HISTORY = 10_000  # epochs in a history
MAX_ENTRIES = 200  # keys in one metrics / train-config / history row
MAX_TEXT = 200  # characters in a text value of the train config
# Per model: field → (type, smallest, largest). A tuple type means a list of such numbers of 1–8 entries.
CONFIG_BOUNDS: dict[str, dict[str, tuple[type, float, float]]] = {
    "table1": {"channels1": (int, 1, 512), "channels2": (int, 1, 512), "kernel1": (int, 1, 28),
             "stride1": (int, 1, 28), "kernel2": (int, 1, 28), "dropout": (float, 0.0, 0.99)},
    "linear": {"hidden": (tuple, 1, 8192)},
    "bfunet": {"width": (int, 1, 512)},
}  # fmt: skip
MAX_HIDDEN_LAYERS = 8
NOISE_BOUNDS = {"mean": (-255.0, 255.0), "var": (0.0, 65025.0), "speckle": (0.0, 100.0)}  # pixel units 0..255
# What the archive's pickle may name: torch's tensor rebuild, its storage classes and OrderedDict.
STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
}  # fmt: skip
PAYLOAD_KEYS = {"format_version", "model_config", "noise_config", "train_config", "history", "metrics", "state_dict"}


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file and the problem.

    `key` and `params` name the problem for the UI (locale key `ckpt.<key>`), so a student reads it in
    their language; `str(exc)` is the English message (one line) for the command line and logs.
    """

    def __init__(self, message: str, key: str, **params: object) -> None:
        super().__init__(" ".join(message.split()))
        self.key = key
        self.params = params

    def text(self, lang: str, name_format: Any = None) -> str:
        """The problem in the UI language; `name_format` (e.g. Markdown escaping) is applied to the file name."""
        params = dict(self.params)
        if name_format is not None and "name" in params:
            params["name"] = name_format(params["name"])
        return t(f"ckpt.{self.key}", lang, **params)


@dataclass
class Checkpoint:
    """Everything saved with a trained model."""

    model_config: Any
    state_dict: dict[str, torch.Tensor]
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    train: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """Plain-data dict that torch.load(weights_only=True) can read back."""
        return {
            "format_version": FORMAT_VERSION,
            "model_config": config_to_dict(self.model_config),
            "noise_config": asdict(self.noise),
            "train_config": dict(self.train),
            "history": [dict(row) for row in self.history],
            "metrics": dict(self.metrics),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict.items()},
        }

    def build(self, device: torch.device | str = "cpu") -> nn.Module:
        """The model in eval mode, weights loaded strictly, convolution weights channels-last."""
        model = build_model(self.model_config)
        model.load_state_dict(self.state_dict, strict=True)
        # Channels-last halves the U-Net's CPU time per image (oneDNN's fast path); predict() feeds it likewise.
        return model.to(device, memory_format=torch.channels_last).eval()


def to_bytes(ckpt: Checkpoint) -> bytes:
    """The checkpoint serialised in memory (for downloads)."""
    buffer = io.BytesIO()
    torch.save(ckpt.to_payload(), buffer)
    return buffer.getvalue()


def save(ckpt: Checkpoint, path: str | Path) -> Path:
    """Write atomically: temp file in the same folder, then os.replace."""
    return write_bytes_atomically(path, to_bytes(ckpt))


# ---------------------------------------------------------------------------------------------- the records


@dataclass(frozen=True)
class StorageRecord:
    """A storage the pickle refers to: its archive entry and element count, nothing read yet."""

    key: str
    dtype: torch.dtype
    numel: int


@dataclass(frozen=True)
class TensorRecord:
    """A tensor the pickle describes: a view of a storage, nothing allocated."""

    storage: StorageRecord
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def numel(self) -> int:
        """Elements of the tensor."""
        return math.prod(self.shape)


class _Refused(Exception):
    """The pickle names something a checkpoint never holds."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _Table(dict):
    """Stand-in for OrderedDict: a plain dict that ignores the attributes pickled with a state dict (`_metadata`)."""

    def __setstate__(self, state: Any) -> None:
        """The version metadata of a module's state dict is not needed."""


def _storage_class(dtype_name: str) -> Any:
    return ("storage-class", dtype_name)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> TensorRecord:
    """Stand-in for torch._utils._rebuild_tensor_v2: checks and records the view, allocates nothing."""
    if not isinstance(storage, StorageRecord) or not _is_int(offset) or offset < 0:
        raise _Refused("a tensor without a proper storage")
    if not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride) or len(size) > 8:
        raise _Refused("a tensor with a malformed shape")
    if not all(_is_int(n) and 0 <= n <= MAX_PARAMETERS for n in size + stride):
        raise _Refused("a tensor with a negative or huge size")
    numel = math.prod(size)
    if numel > MAX_PARAMETERS:
        raise _Refused("a tensor larger than any model of this app")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if numel else offset - 1
    if last >= storage.numel:
        raise _Refused("a tensor reaching beyond its storage")
    return TensorRecord(storage, int(offset), tuple(int(n) for n in size), tuple(int(s) for s in stride))


class _RecordingUnpickler(pickle.Unpickler):
    """Reads the archive's data.pkl into plain data and TensorRecords; any other global is refused."""

    def __init__(self, data: bytes, sizes: dict[str, int]) -> None:
        super().__init__(io.BytesIO(data))
        self.sizes = sizes  # storage key → bytes of its archive entry
        self.storages: dict[str, StorageRecord] = {}

    def find_class(self, module: str, name: str) -> Any:
        """Only what torch.save writes for a dict of tensors; never an import."""
        if module == "collections" and name == "OrderedDict":
            return _Table
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return _storage_class(name)
        raise _Refused(f"the Python object {module[:40]}.{name[:40]}")

    def persistent_load(self, pid: Any) -> StorageRecord:
        """A storage reference ('storage', class, key, location, numel): checked against its archive entry."""
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise _Refused("an unknown reference")
        _, cls, key, _location, numel = pid
        if not (isinstance(cls, tuple) and cls[:1] == ("storage-class",)) or not isinstance(key, str):
            raise _Refused("an unknown storage")
        if not _is_int(numel) or not 0 <= numel <= MAX_PARAMETERS:
            raise _Refused("a storage larger than any model of this app")
        record = StorageRecord(key, STORAGE_DTYPES[cls[1]], int(numel))
        known = self.storages.setdefault(key, record)
        if known != record or self.sizes.get(key) != record.numel * record.dtype.itemsize:
            raise _Refused("a storage whose size does not match the archive")
        if sum(s.numel * s.dtype.itemsize for s in self.storages.values()) > 8 * MAX_PARAMETERS:
            raise _Refused("more tensor data than any model of this app")
        return record


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A finite float, or an int a float holds exactly (a pickle can hold an int of a million digits)."""
    if _is_int(value):
        return abs(value) <= 2**53
    return isinstance(value, float) and math.isfinite(value)


def _short(key: Any, limit: int) -> str:
    """A key for a message: a text cut to `limit` characters, anything else by its type's name."""
    return clean_name(key[:limit], limit) if isinstance(key, str) else type(key).__name__


def _archive(data: bytes, name: str) -> tuple[zipfile.ZipFile, str, dict[str, int]]:
    """The zip, its folder prefix and the byte size of every storage entry; nothing decompressed yet."""
    unreadable = CheckpointError(f"{name}: not a readable PyTorch checkpoint", "unreadable", name=name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise unreadable from exc
    names = [info.filename for info in infos]
    pickles = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pickles) != 1 or len(set(names)) != len(names) or len(names) > 10 * MAX_ENTRIES + 10:
        raise unreadable
    prefix = pickles[0][: -len("data.pkl")]
    if any(not n.startswith(prefix) for n in names):
        raise unreadable
    byteorder = prefix + "byteorder"
    order = archive.read(byteorder).strip() if byteorder in names and archive.getinfo(byteorder).file_size < 16 else b""
    if order not in (b"little", b""):
        raise CheckpointError(f"{name}: written on a big-endian machine", "unreadable", name=name)
    sizes = {n[len(prefix) + len("data/") :]: archive.getinfo(n).file_size for n in names
             if n.startswith(prefix + "data/")}  # fmt: skip
    return archive, prefix, sizes


def read_records(data: bytes, name: str) -> tuple[Any, zipfile.ZipFile, str]:
    """The payload with TensorRecords in place of tensors, the archive and its prefix; no tensor data read."""
    archive, prefix, sizes = _archive(data, name)
    info = archive.getinfo(prefix + "data.pkl")
    if info.file_size > MAX_PICKLE_BYTES:
        raise CheckpointError(f"{name}: the checkpoint's description is {info.file_size} bytes, far more than a "
                              "checkpoint of this app holds", "too_big", name=name)  # fmt: skip
    try:
        with archive.open(info) as fh:
            pickled = fh.read(MAX_PICKLE_BYTES + 1)
        payload = _RecordingUnpickler(pickled, sizes).load()
    except _Refused as exc:
        raise CheckpointError(f"{name}: refused: the file holds {exc.what}", "refused", name=name) from None
    except (pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError, TypeError, KeyError, IndexError,
            EOFError, AttributeError, RecursionError, MemoryError) as exc:  # fmt: skip
        raise CheckpointError(f"{name}: not a readable PyTorch checkpoint ({type(exc).__name__})", "unreadable",
                              name=name) from None  # fmt: skip
    return payload, archive, prefix


# ---------------------------------------------------------------------------------------------- the checks


def _check_config(raw: Any, name: str) -> Any:
    """The model config dataclass after type, range and size checks; the model is built on `meta` only."""

    def bad(detail: str) -> CheckpointError:
        return CheckpointError(f"{name}: bad model config inside: {detail}", "bad_config", name=name)

    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise bad("not a table of settings")
    model = canonical_model(raw.get("name"))  # a checkpoint written before a model's rename names it the old way
    if not isinstance(model, str) or model not in REGISTRY:
        raise bad("unknown model")
    cls = REGISTRY[model].config_cls
    bounds = CONFIG_BOUNDS[model]
    known = {f.name for f in fields(cls)}
    if set(raw) - known:
        raise bad(f"unknown settings {sorted(k[:40] for k in set(raw) - known)[:5]}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "name":
            continue
        kind, low, high = bounds[key]
        if kind is tuple:
            ok = isinstance(value, list | tuple) and 1 <= len(value) <= MAX_HIDDEN_LAYERS
            ok = ok and all(_is_int(v) and low <= v <= high for v in value)
            value = tuple(value) if ok else value
        elif kind is int:
            ok = _is_int(value) and low <= value <= high
        else:
            ok = _finite(value) and low <= value <= high
        if not ok:
            what = "a list of whole numbers" if kind is tuple else "a whole number" if kind is int else "a number"
            raise bad(f"'{key[:40]}' must be {what} from {low} to {high}")
        values[key] = value
    config = cls(**values)
    with torch.device("meta"):  # shapes and sizes only: no memory, no time
        model_meta = REGISTRY[model].build(config)
        count = sum(v.numel() for v in model_meta.state_dict().values())
        if count > MAX_PARAMETERS:
            raise CheckpointError(
                f"{name}: the model config asks for {count} parameters, at most {MAX_PARAMETERS} are allowed",
                "too_many_params", name=name, count=count, limit=MAX_PARAMETERS,
            )  # fmt: skip
    if model == "table1" and _table1_output_side(config) != 28:
        raise bad("the model does not turn a 28×28 image into a 28×28 image")
    return config, model_meta.state_dict()


def _table1_output_side(config: Any) -> int:
    """Side of the Table 1 model's output for a 28×28 input (0 when a layer gets less than its kernel)."""
    side = (28 - config.kernel1) // config.stride1 + 1 if config.kernel1 <= 28 else 0  # layer1
    inner = side - config.kernel2 + 1  # layer2
    if side < 1 or inner < 1:
        return 0
    return (side - 1) * config.stride1 + config.kernel1  # layer02 restores `side`, layer01 transposes layer1


def _check_noise(raw: Any, name: str) -> NoiseConfig:
    """The noise config after type and range checks."""
    problem = CheckpointError(f"{name}: bad noise config inside", "bad_noise", name=name)
    if not isinstance(raw, dict) or set(raw) - {"kind", "mean", "var", "speckle", "clip"}:
        raise problem
    if "kind" in raw and (not isinstance(raw["kind"], str) or raw["kind"] not in NOISE_KINDS):
        raise problem
    if "clip" in raw and not isinstance(raw["clip"], bool):
        raise problem
    for key, (low, high) in NOISE_BOUNDS.items():
        if key in raw and not (_finite(raw[key]) and low <= raw[key] <= high):
            raise problem
    return NoiseConfig(**raw)


def _numbers(raw: Any, allow_text: bool = False) -> bool:
    """A dict of at most MAX_ENTRIES short keys whose values are finite numbers.

    With allow_text (the train config) also short texts, flags, None, any number, and lists of at most
    MAX_ENTRIES numbers (e.g. the digits each process of a torchrun training saw).
    """
    if not isinstance(raw, dict) or len(raw) > MAX_ENTRIES:
        return False
    for key, value in raw.items():
        if not isinstance(key, str) or len(key) > MAX_TEXT:
            return False
        if _finite(value):
            continue
        if allow_text and _setting(value):
            continue
        return False
    return True


def _setting(value: Any) -> bool:
    """One train-config value: a number, flag, None, short text or short list of numbers."""
    if value is None or isinstance(value, bool) or _is_number(value):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return isinstance(value, list | tuple) and len(value) <= MAX_ENTRIES and all(_is_number(v) for v in value)


def _check_metadata(payload: dict, name: str) -> tuple[dict, list, dict]:
    """train config (numbers, flags, short texts), history (a list of dicts of numbers), metrics (dict of numbers)."""
    train = payload.get("train_config", {})
    history = payload.get("history", [])
    metrics = payload.get("metrics", {})
    ok_history = isinstance(history, list) and len(history) <= MAX_HISTORY and all(_numbers(r) for r in history)
    for part, ok in (("train_config", _numbers(train, allow_text=True)), ("history", ok_history),
                     ("metrics", _numbers(metrics))):  # fmt: skip
        if not ok:
            raise CheckpointError(f"{name}: the {part} inside has the wrong form", "bad_metadata", name=name,
                                  part=part)  # fmt: skip
    return dict(train), [dict(row) for row in history], dict(metrics)


def _check_records(records: Any, expected: dict[str, torch.Tensor], name: str, model: str) -> None:
    """The state dict's records have exactly the meta model's names, shapes and dtypes."""
    if not isinstance(records, dict) or not all(isinstance(v, TensorRecord) for v in records.values()):
        raise CheckpointError(f"{name}: the weights inside are not a table of tensors", "not_app", name=name)
    missing, extra = expected.keys() - records.keys(), records.keys() - expected.keys()
    wrong = [k for k in expected.keys() & records.keys()
             if records[k].shape != tuple(expected[k].shape) or records[k].storage.dtype != expected[k].dtype]  # fmt: skip
    if missing or extra or wrong:
        detail = "; ".join(f"{label}: {', '.join(sorted(_short(k, 60) for k in keys)[:3])}" for label, keys in
                           (("missing", missing), ("unexpected", extra), ("wrong shape or type", wrong)) if keys)  # fmt: skip
        raise CheckpointError(f"{name}: weights do not match model '{model}': {detail}", "mismatch", name=name,
                              model=model)  # fmt: skip


def _materialise(records: dict[str, TensorRecord], archive: zipfile.ZipFile, prefix: str, name: str
                 ) -> dict[str, torch.Tensor]:  # fmt: skip
    """Read each checked storage (its size known and bounded) and make the tensors; refuse NaN and infinity."""
    storages: dict[str, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    for key, rec in records.items():
        if rec.storage.key not in storages:
            try:
                raw = archive.read(f"{prefix}data/{rec.storage.key}")
            except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
                raise CheckpointError(f"{name}: the weights inside are damaged ({type(exc).__name__})", "unreadable",
                                      name=name) from None  # fmt: skip
            storages[rec.storage.key] = torch.frombuffer(bytearray(raw), dtype=rec.storage.dtype)
        tensor = storages[rec.storage.key].as_strided(rec.shape, rec.stride, rec.offset).clone()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{name}: the weights '{key[:60]}' contain NaN or infinity", "not_finite",
                                  name=name, tensor=key[:60])  # fmt: skip
        out[key] = tensor
    return out


def load_bytes(data: bytes, name: str = "uploaded file", max_bytes: int = MAX_FILE_BYTES) -> Checkpoint:
    """Read a checkpoint from bytes, validating before allocating; any problem is a CheckpointError naming the file."""
    name = clean_name(name)
    if len(data) > max_bytes:
        raise CheckpointError(f"{name}: the file is {len(data)} bytes, the limit is {max_bytes}", "file_too_big",
                              name=name, size=len(data), limit=max_bytes)  # fmt: skip
    payload, archive, prefix = read_records(data, name)
    if not isinstance(payload, dict) or "state_dict" not in payload or "model_config" not in payload:
        raise CheckpointError(
            f"{name}: not a checkpoint of this app (no model config or weights inside)", "not_app", name=name
        )
    extra = set(payload) - PAYLOAD_KEYS
    if extra:
        shown = ", ".join(sorted(_short(k, 40) for k in extra)[:3])
        raise CheckpointError(f"{name}: unexpected entries inside ({shown})", "extra_keys", name=name, keys=shown)
    version = payload.get("format_version")
    if version != FORMAT_VERSION or not _is_int(version):
        shown = str(version) if _finite(version) and abs(version) < 10**6 else "?"
        raise CheckpointError(
            f"{name}: checkpoint format {shown}, this app reads format {FORMAT_VERSION}",
            "version", name=name, version=shown, expected=FORMAT_VERSION,
        )  # fmt: skip
    config, expected = _check_config(payload["model_config"], name)
    noise = _check_noise(payload.get("noise_config", {}), name)
    train, history, metrics = _check_metadata(payload, name)
    _check_records(payload["state_dict"], expected, name, config.name)
    state_dict = _materialise(payload["state_dict"], archive, prefix, name)
    return Checkpoint(config, state_dict, noise, train, history, metrics)


def load(path: str | Path) -> Checkpoint:
    """Read a checkpoint file (its size checked before it is read) with every check of load_bytes."""
    path = Path(path)
    name = clean_name(path.name)
    if not path.is_file():
        raise CheckpointError(f"{name}: file not found", "not_found", name=name)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CheckpointError(f"{name}: the file is {size} bytes, the limit is {MAX_FILE_BYTES}", "file_too_big",
                              name=name, size=size, limit=MAX_FILE_BYTES)  # fmt: skip
    return load_bytes(path.read_bytes(), name)
