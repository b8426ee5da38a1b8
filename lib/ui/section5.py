"""Section 5 in the app (Figs. 9–10): the session's own digits it runs on, the models on them, the U-Net's insides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch

from lib import a11y
from lib.compare import BEYOND_MODELS, SECTION5_MODELS, pick
from lib.i18n import format_number
from lib.inference import cleaned
from lib.metrics import psnr
from lib.noise import add_noise, make_generator, preset
from lib.safe_names import markdown_text
from lib.ui import cache
from lib.ui.frame import Frame
from lib.ui.widgets import TILE, method_label, row_alts, teacher_note, upscale

MY_DIGITS = "my_digits"  # list[tuple[str, np.ndarray]]: (name, (28, 28) float [0, 1]) drawn or uploaded this session
MAX_MY_DIGITS = 24
RESULTS = cache.WEIGHTS_DIR / "compare_outside.json"
SET_CHOICES = ("outside", "outside:pen", "outside:font", "outside:photo", "mnist")
KIND_CHOICES = ("gaussian", "speckle", "none")


def remember_digit(name: str, digit: np.ndarray) -> None:
    """Add a drawn or uploaded digit (28, 28) in [0, 1] to this session's "my digits" (same name: replaced)."""
    digit = np.asarray(digit, dtype=np.float32).copy()
    items = [(n, d) for n, d in st.session_state.get(MY_DIGITS, []) if n != name]
    items.append((name, digit))
    st.session_state[MY_DIGITS] = items[-MAX_MY_DIGITS:]


def my_digits() -> list[tuple[str, np.ndarray]]:
    """This session's own digits, oldest first."""
    return list(st.session_state.get(MY_DIGITS, []))


@st.cache_data(show_spinner=False)
def load_results(path: str, mtime: float) -> dict:
    """The precomputed section 5 numbers (weights/compare_outside.json)."""
    return json.loads(Path(path).read_text())


@st.cache_resource(show_spinner=False)
def outside_set():
    """The shipped outside digits (read once per server)."""
    from lib import outside

    return outside.load()


def experiment_models(results: dict) -> dict[str, torch.nn.Module]:
    """The models the numbers were made with, by file stem, loaded through the shared cache."""
    models = {}
    for path_str in results["weights"]:
        path = cache.WEIGHTS_DIR.parent / path_str
        if path.is_file():
            models[path.stem] = cache.shipped_model(str(path), path.stat().st_mtime).model
    return models


def _db(f: Frame, value: float | None) -> str:
    if value is None or value != value:  # not measured (None, or NaN in a table)
        return "—"
    return f"{format_number(value, f.lang, '.2f')} {f.t('common.unit.db')}"


def _kind_label(f: Frame, kind: str) -> str:
    return f.t("outside.kind.none") if kind == "none" else f.t(f"noise.kind.{kind}")


def _set_label(f: Frame, name: str) -> str:
    return f.t("outside.set." + name.replace(":", "."))


def results_table(f: Frame, rows: list[dict], set_name: str) -> pd.DataFrame:
    """PSNR of every method on one set (three settings) and on MNIST for contrast."""
    methods = [m for m in ("noisy", *SECTION5_MODELS, *BEYOND_MODELS) if any(r["method"] == m for r in rows)]
    columns = {}
    for where in dict.fromkeys([set_name, "mnist"]):
        for kind in KIND_CHOICES:
            header = f"{_set_label(f, where)} · {_kind_label(f, kind)}"
            columns[header] = [pick(rows, where, kind, m) for m in methods]
    return pd.DataFrame(columns, index=[method_label(f, m) for m in methods])


def findings(f: Frame, found: dict, set_name: str) -> list[str]:
    """The section 5 findings as sentences, each computed from the numbers (and compared with the book)."""
    lines = []
    where = _set_label(f, set_name)
    for group, gain in found.get("conv_gain", {}).items():
        key = "outside.finding.conv_agrees" if gain > 0 else "outside.finding.conv_disagrees"
        lines.append(f.t(key, where=where, group=f.t(f"noise.group.short.{group}"), diff=abs(gain)))
    for arch, gain in found.get("group_b_gain", {}).items():
        key = "outside.finding.group_agrees" if gain > 0 else "outside.finding.group_disagrees"
        lines.append(f.t(key, where=where, model=f.t(f"model.{arch}"), diff=abs(gain)))
    over = found.get("over_noisy", {})
    for method in ("table1_B", "table1_B_aug", "bfunet"):  # the book's model, its augmented twin, the modern one
        if method not in over:
            continue
        gains = over[method]
        for kind, diff in gains.items():
            key = "outside.finding.better" if diff > 0 else "outside.finding.worse"
            lines.append(
                f.t(key, where=where, method=method_label(f, method), kind=_kind_label(f, kind), diff=abs(diff))
            )
    clean = found.get("clean_change", {})
    if clean.get("table1_B") is not None and clean.get("bfunet") is not None:
        lines.append(f.t("outside.finding.clean", where=where, table1=clean["table1_B"], unet=clean["bfunet"]))
    return lines


@st.cache_resource(show_spinner=False, max_entries=256)
def figure_row(
    digit: np.ndarray, kind: str, seed: int, model_names: tuple[str, ...], _models: tuple[torch.nn.Module, ...]
) -> tuple[list[np.ndarray], float | None, list[float]]:
    """One row of Figs. 9–10: pictures (input, noisy copy unless kind is "none", every model's output, enlarged ×3),
    the noisy copy's PSNR and each model's. Computed once per server for the same digit, noise and models
    (every student sees the same example rows); shared, so read-only.
    """
    clean = np.asarray(digit, dtype=np.float32)  # (28, 28)
    if kind == "none":
        noisy = clean
    else:
        raw = add_noise(torch.from_numpy(clean * 255.0)[None], preset("B").with_kind(kind), make_generator(seed))
        noisy = (raw[0] / 255.0).numpy()  # (28, 28)
    images = [clean] if kind == "none" else [clean, np.clip(noisy, 0, 1)]
    noisy_psnr = None if kind == "none" else float(psnr(clean, np.clip(noisy, 0, 1)))
    scores = []
    for model in _models:
        out = cleaned(model, noisy, cache.device())
        images.append(out)
        scores.append(float(psnr(clean, out)))
    pictures = [upscale(im, 3) for im in images]
    for picture in pictures:
        picture.flags.writeable = False  # shared by every session
    return pictures, noisy_psnr, scores


def figure_rows(
    f: Frame, models: dict[str, torch.nn.Module], digits: list[tuple[str, np.ndarray]], kind: str, seed: int
) -> None:
    """Figs. 9–10: for each digit the input, the noisy copy and every model's output, PSNR under each."""
    for number, (name, digit) in enumerate(digits):
        pictures, noisy_psnr, scores = figure_row(digit, kind, seed + number, tuple(models), tuple(models.values()))
        name = markdown_text(name)  # captions render Markdown; an uploaded file's name must stay text
        if kind == "none":
            captions = [f"{name} · {f.t('outside.kind.none')}"]
        else:
            captions = [name, f"{method_label(f, 'noisy')} · {_db(f, noisy_psnr)}"]
        captions += [f"{method_label(f, method)} · {_db(f, score)}" for method, score in zip(models, scores)]
        subject = a11y.digit(f.lang, name=name)
        noise = None if kind == "none" else a11y.noise_words(f.lang, preset("B"), kind, "B")
        score_texts = [] if kind == "none" else [f"PSNR {_db(f, noisy_psnr)}"]
        score_texts += [f"PSNR {_db(f, score)}" for score in scores]
        alts = row_alts(f, subject, noise, [method_label(f, m) for m in models], score_texts)
        st.image(pictures, caption=captions, width=TILE, alt=alts)


def example_digits(f: Frame, data, set_name: str, per_kind: int = 2) -> list[tuple[str, np.ndarray]]:
    """A few fixed outside digits for the figure: different classes from each writer, named in the UI language."""
    from lib.outside import KINDS

    kinds = KINDS if set_name == "outside" else (set_name.split(":", 1)[1],)
    chosen = []
    for k, kind in enumerate(kinds):
        for j in range(per_kind):
            label = (3 * k + 4 * j + 1) % 10
            rows = np.flatnonzero((data.kinds == kind) & (data.labels == label))
            name = f"{_set_label(f, f'outside:{kind}')} · {label}"
            chosen.append((name, data.images[rows[0]].astype(np.float32) / 255.0))
    return chosen


def render_section5_outside(f: Frame) -> None:
    """The textbook's section 5 experiment on outside digits: numbers, findings, Figs. 9–10, the student's digits."""
    st.header(f.t("outside.header"))
    if not RESULTS.exists():
        st.info(f.t("outside.missing", command="python -m lib section5 …"))
        return
    results = load_results(str(RESULTS), RESULTS.stat().st_mtime)
    st.caption(f.t("outside.intro"))
    c1, c2 = st.columns(2)
    set_name = c1.radio(
        f.t("outside.set"),
        SET_CHOICES,
        key="keep_compare_out_set",
        persist_state="session",
        format_func=lambda s: _set_label(f, s),
    )
    kind = c2.radio(
        f.t("noise.kind"),
        KIND_CHOICES,
        key="keep_compare_out_kind",
        persist_state="session",
        format_func=lambda k: _kind_label(f, k),
    )
    table = results_table(f, results["rows"], set_name)
    # Cells as text: a missing value (the noisy input has no "no noise" score) reads "—", not "None".
    st.dataframe(table.map(lambda v: _db(f, v)), width="stretch")
    st.caption(f.t("outside.source", n=results["mnist_limit"]))
    teacher_note(f, results["command"])
    st.markdown("\n".join(f"- {line}" for line in findings(f, results["findings"][set_name], set_name)))
    st.caption(f.t("outside.book"))

    models = experiment_models(results)
    st.subheader(f.t("outside.figure"))
    if set_name == "mnist":
        digits = cache.test_digits()
        examples = [(f"MNIST #{i}", digits.images[i].float().numpy() / 255.0) for i in (3, 18, 61, 84)]
    else:
        examples = example_digits(f, outside_set(), set_name)
    figure_rows(f, models, examples, kind, seed=int(results["seed"]))

    st.subheader(f.t("outside.mine"))
    mine = my_digits()
    if not mine:
        st.info(f.t("outside.mine_empty"))
        return
    figure_rows(f, models, mine, kind, seed=int(results["seed"]))
    if kind != "none":
        scores = mine_scores(models, mine, kind, int(results["seed"]))
        st.dataframe(scores.rename(index=lambda m: method_label(f, m)).map(lambda v: _db(f, v)))


def mine_scores(models: dict, digits: list[tuple[str, np.ndarray]], kind: str, seed: int) -> pd.DataFrame:
    """Mean PSNR of the noisy input and every model over the session's digits (the same noise as the figure)."""
    clean = np.stack([d for _, d in digits]).astype(np.float32)  # (N, 28, 28)
    raws = [
        add_noise(torch.from_numpy(c * 255.0)[None], preset("B").with_kind(kind), make_generator(seed + i))[0]
        for i, c in enumerate(clean)
    ]
    noisy = (torch.stack(raws) / 255.0).numpy()  # (N, 28, 28)
    values = {"noisy": float(psnr(clean, np.clip(noisy, 0, 1)).mean())}
    for name, model in models.items():
        values[name] = float(psnr(clean, cleaned(model, noisy, cache.device())).mean())
    return pd.DataFrame({"PSNR": values})


def render_unet_inside(f: Frame, outputs: list[tuple[str, torch.Tensor]]) -> None:
    """Feature maps of the bias-free U-Net, its estimated noise, and why nothing is redrawn."""
    st.info(f.t("outside.unet_note"))
    for name, maps in outputs[:-2]:
        c, h, w = maps.shape
        st.markdown(f.t("inside.stage", name=name, c=c, h=h, w=w))
        from lib.anatomy import tile

        st.image(upscale(tile(maps.numpy(), columns=16), 6 if h < 10 else 3), width="stretch",
                 alt=f.t("alt.inside.maps", c=c, h=h, w=w, name=name))  # fmt: skip
    noise = outputs[-2][1][0].numpy()  # (28, 28): what the network subtracts
    scale = max(float(np.abs(noise).max()), 1e-6)
    c1, c2 = st.columns(2)
    c1.image(upscale((noise / scale + 1) / 2, 6), caption=f.t("outside.unet_noise", lo=-scale, hi=scale),
             alt=f.t("alt.inside.unet_noise", lo=-scale, hi=scale))  # fmt: skip
    c2.image(upscale(outputs[-1][1][0].numpy(), 6), caption=f.t("inside.final_output"), alt=f.t("alt.inside.output"))
