"""Text alternatives for the app's pictures and the colour arithmetic of WCAG 2.1 (no streamlit here).

A screen reader reads an image's alt text instead of the picture, so each alt says what a sighted student
takes from it: which digit, in which state (original, noisy with which noise, cleaned by which model, an
error map), and the scores printed beside it. Every text comes from the `alt.` strings of the UI language.
"""

from __future__ import annotations

from lib.i18n import t
from lib.noise import NoiseConfig


def digit(lang: str, label: int | None = None, index: int | None = None, name: str | None = None) -> str:
    """The digit a picture shows: "цифра 7 (№0 тестовой выборки MNIST)", a named one, or "ваша цифра"."""
    if name:
        return t("alt.named_digit", lang, name=name)
    if label is None:
        return t("alt.your_digit", lang)
    if index is None:
        return t("alt.digit", lang, label=label)
    return t("alt.test_digit", lang, label=label, index=index)


def noise_words(lang: str, noise: NoiseConfig, kind: str | None = None, group: str | None = None) -> str:
    """The noise one picture got: "шум Гаусса (μ = −20, D = 600, группа Б)" or "спекл-шум (s = 1)".

    kind: "gaussian" or "speckle" (the mix gives each picture one of them); defaults to noise.kind.
    group: "A"/"B" when the parameters are a textbook group's.
    """
    kind = kind or noise.kind
    if kind == "speckle":
        params = t("alt.noise.speckle", lang, s=noise.speckle)
    else:
        params = t("alt.noise.gaussian", lang, mean=noise.mean, var=noise.var)
    if group in ("A", "B"):
        params = f"{params}, {t(f'noise.group.{group}', lang)}"
    return f"{t(f'noise.kind.{kind}', lang)} ({params})"


def scores(lang: str, psnr: float | None = None, ssim: float | None = None, against: str = "original") -> str:
    """ "PSNR 23,1 дБ, SSIM 0,512" (against the original) or the change from the input when there is none."""
    if psnr is None:
        return ""
    key = "alt.scores" if against == "original" else "alt.scores_vs_input"
    return t(key, lang, psnr=psnr, ssim=ssim if ssim is not None else float("nan"))


def original(lang: str, subject: str) -> str:
    """Alt of an un-noised digit."""
    return t("alt.original", lang, digit=subject)


def noisy(lang: str, subject: str, noise: str = "", score: str = "") -> str:
    """Alt of a noisy digit: which noise, and its scores against the original."""
    text = t("alt.noisy", lang, digit=subject)
    if noise:
        text += f": {noise}"
    return f"{text}; {score}" if score else text


def cleaned(lang: str, subject: str, method: str, score: str = "") -> str:
    """Alt of a model's or a filter's output."""
    text = t("alt.cleaned", lang, digit=subject, method=method)
    return f"{text}; {score}" if score else text


def error_map(lang: str, subject: str, which: str, mae: float) -> str:
    """Alt of an error map |image − original|: whose error, how to read it, its mean."""
    return t(f"alt.error.{which}", lang, digit=subject, mae=mae)


def relative_luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of a colour "#rrggbb" (0 black … 1 white)."""
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two colours, 1 … 21 (text needs ≥ 4.5, large text ≥ 3)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
