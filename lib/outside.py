"""Digits that are not MNIST: drawn from pen-stroke paths, typeset in fonts, photographed on paper.

Every digit is rendered as a picture (dark ink on light paper, any size) and then goes through the same
`lib.preprocess.to_mnist` a student's photo goes through. Three separately made "writers" give three kinds
of shift from MNIST:

* ``pen``   — hand-designed stroke skeletons per class with jittered points, slant, aspect, pen width,
              pressure along the stroke and blur, scanned clean (white paper, dark ink);
* ``font``  — the digits of the bundled DejaVu Serif / DejaVu Sans Mono and Pillow's own default font,
              at random weight, slant, width and rotation;
* ``photo`` — pen digits photographed: uneven lighting, paper texture, grey ink, camera blur, JPEG.

Everything is drawn from one `numpy.random.Generator`, so a seed gives the same set byte for byte.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy import ndimage

from lib.atomic import write_atomically
from lib.data import PROJECT_ROOT, Digits
from lib.preprocess import PreprocessError, to_mnist

OUTSIDE_DIR = PROJECT_ROOT / "data" / "outside"
FONT_DIR = OUTSIDE_DIR / "fonts"
SHIPPED = OUTSIDE_DIR / "outside_v1.npz"
KINDS = ("pen", "font", "photo")
SEED = 2024
PER_CLASS = 15  # per kind: 3 kinds × 10 classes × 15 = 450 digits

Stroke = tuple[np.ndarray, bool]  # (points (P, 2) in the unit box, x right / y down; smooth curve?)


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float = -math.pi / 2, turns: float = 1.0) -> np.ndarray:
    t = start + np.linspace(0.0, 2 * math.pi * turns, max(8, int(40 * turns)))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _p(*xy: float) -> np.ndarray:
    return np.asarray(xy, dtype=np.float64).reshape(-1, 2)


# The ways of writing each digit: each is a list of strokes (points in the unit box; smooth curve?). A variant
# number picks one, round robin (digit 1: a plain bar, with a flag, with a flag and a foot).
# fmt: off
STYLES: dict[int, tuple[list[Stroke], ...]] = {
    0: ([(_ellipse(0.5, 0.5, 0.3, 0.45, turns=1.05), False)],),
    1: (
        [(_p(0.52, 0.05, 0.5, 0.95), False)],
        [(_p(0.28, 0.3, 0.52, 0.05), False), (_p(0.52, 0.05, 0.5, 0.95), False)],  # the flag
        [(_p(0.28, 0.3, 0.52, 0.05), False), (_p(0.52, 0.05, 0.5, 0.95), False),
         (_p(0.3, 0.95, 0.72, 0.95), False)],  # and the foot
    ),
    2: (
        [(_p(0.2, 0.28, 0.38, 0.07, 0.7, 0.1, 0.77, 0.35, 0.5, 0.65, 0.18, 0.94), True),
         (_p(0.18, 0.94, 0.86, 0.94), False)],
        [(_p(0.2, 0.28, 0.38, 0.07, 0.7, 0.1, 0.77, 0.35, 0.5, 0.65, 0.18, 0.94), True),
         (_p(0.18, 0.94, 0.5, 0.86, 0.86, 0.95), True)],  # a wavy base
    ),
    3: (
        [(_p(0.2, 0.14, 0.55, 0.04, 0.8, 0.22, 0.45, 0.47), True),
         (_p(0.45, 0.47, 0.82, 0.66, 0.68, 0.93, 0.2, 0.88), True)],
        [(_p(0.18, 0.06, 0.8, 0.06, 0.45, 0.42), False),
         (_p(0.45, 0.42, 0.82, 0.62, 0.66, 0.93, 0.2, 0.88), True)],  # a flat top
    ),
    4: (
        [(_p(0.62, 0.04, 0.14, 0.66, 0.86, 0.66), False), (_p(0.64, 0.3, 0.64, 0.97), False)],  # closed
        [(_p(0.22, 0.04, 0.18, 0.56, 0.84, 0.56), False), (_p(0.7, 0.06, 0.7, 0.97), False)],  # open
    ),
    5: (
        [(_p(0.8, 0.05, 0.27, 0.05), False), (_p(0.27, 0.05, 0.22, 0.46), False),
         (_p(0.22, 0.46, 0.55, 0.38, 0.8, 0.6, 0.66, 0.9, 0.2, 0.87), True)],
    ),
    6: ([(_p(0.72, 0.04, 0.38, 0.32, 0.2, 0.68, 0.38, 0.95, 0.74, 0.86, 0.76, 0.6, 0.46, 0.5, 0.22, 0.68), True)],),
    7: (
        [(_p(0.14, 0.08, 0.86, 0.08, 0.42, 0.97), False)],
        [(_p(0.14, 0.08, 0.86, 0.08, 0.42, 0.97), False), (_p(0.32, 0.52, 0.74, 0.5), False)],  # crossbar
    ),
    8: (
        [(_ellipse(0.5, 0.27, 0.24, 0.22, math.pi / 2), False),
         (_ellipse(0.5, 0.72, 0.3, 0.25, -math.pi / 2), False)],  # two loops
        [(_p(0.75, 0.15, 0.5, 0.04, 0.25, 0.2, 0.5, 0.47, 0.78, 0.72, 0.5, 0.96, 0.22, 0.72, 0.5, 0.47, 0.74, 0.22),
          True)],  # one stroke
    ),
    9: (
        [(_ellipse(0.48, 0.3, 0.28, 0.25, 0.0, turns=1.05), False), (_p(0.76, 0.3, 0.74, 0.97), False)],
        [(_ellipse(0.48, 0.3, 0.28, 0.25, 0.0, turns=1.05), False),
         (_p(0.76, 0.3, 0.74, 0.72, 0.55, 0.97), True)],  # a curled tail
    ),
}
# fmt: on


def skeletons(digit: int, variant: int) -> list[Stroke]:
    """Stroke paths of one way of writing `digit` (variant chooses among its styles, round robin)."""
    if digit not in STYLES:
        raise ValueError(f"no skeleton for {digit!r}")
    styles = STYLES[digit]
    return [(points.copy(), smooth) for points, smooth in styles[variant % len(styles)]]


def catmull_rom(points: np.ndarray, samples_per_segment: int = 24) -> np.ndarray:
    """A smooth curve through `points` (P, 2): centripetal-free uniform Catmull–Rom, ends repeated."""
    p = np.vstack([points[:1], points, points[-1:]])
    out = []
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]  # (S, 1)
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )
    out.append(points[-1:])
    return np.vstack(out)


def densify(points: np.ndarray, step: float) -> np.ndarray:
    """Points along a polyline no more than `step` apart."""
    pieces = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(math.ceil(np.linalg.norm(b - a) / step)))
        pieces.append(a + (b - a) * (np.arange(1, n + 1)[:, None] / n))
    return np.vstack(pieces)


@dataclass(frozen=True)
class OutsideSet:
    """Outside digits in MNIST format: uint8 (N, 28, 28) white on black, labels, and which writer made each."""

    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64
    kinds: np.ndarray  # (N,) str

    def subset(self, kind: str) -> OutsideSet:
        """Only the digits of one writer."""
        keep = self.kinds == kind
        return OutsideSet(self.images[keep], self.labels[keep], self.kinds[keep])

    def digits(self) -> Digits:
        """As lib.data.Digits (torch uint8), the form the evaluation takes."""
        import torch

        return Digits(torch.from_numpy(self.images.copy()), torch.from_numpy(self.labels.astype(np.int64)))


def _pen_picture(digit: int, rng: np.random.Generator, photo: bool) -> Image.Image:
    """One pen-written digit on paper, as a grey picture of random size (ink dark, paper light)."""
    strokes = skeletons(digit, int(rng.integers(0, 6)))
    slant = rng.uniform(-0.35, 0.35)
    rotation = rng.uniform(-0.15, 0.15)
    aspect = rng.uniform(0.6, 1.15)
    cos, sin = math.cos(rotation), math.sin(rotation)
    size = int(rng.integers(72, 200))
    margin = size * rng.uniform(0.15, 0.3)
    pen = (size - 2 * margin) * rng.uniform(0.012, 0.07)  # pen radius: a fine liner to a felt-tip marker
    wobble = rng.uniform(0.0, 0.5)  # how much the pressure changes along a stroke
    jitter = rng.uniform(0.01, 0.04)
    ink_mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(ink_mask)
    for points, smooth in strokes:
        pts = points + rng.normal(0.0, jitter, points.shape)
        path = catmull_rom(pts) if smooth and len(pts) > 2 else densify(pts, 0.02)
        x = (path[:, 0] - 0.5) * aspect
        y = path[:, 1] - 0.5
        x = x - slant * y  # an italic slant: the top leans right
        x, y = cos * x - sin * y, sin * x + cos * y
        px = size / 2 + x * (size - 2 * margin)
        py = size / 2 + y * (size - 2 * margin)
        path = densify(np.stack([px, py], axis=1), max(0.5, pen / 3))
        phase, freq = rng.uniform(0, 2 * math.pi), rng.uniform(0.5, 3.0)
        t = np.linspace(0.0, 1.0, len(path))
        radius = pen * (1.0 + wobble * np.sin(phase + 2 * math.pi * freq * t))
        level = (255 * (0.75 + 0.25 * np.cos(phase + 3 * t))).astype(int)  # pressure also changes darkness
        for (cx, cy), r, a in zip(path, radius, level):
            r = max(0.6, float(r))
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=int(a))
    ink = np.asarray(ink_mask, dtype=np.float64) / 255.0  # (S, S) ink coverage
    blur = rng.uniform(0.0, 0.02) * size
    if blur > 0.3:
        ink = ndimage.gaussian_filter(ink, blur)
    return _on_paper(ink, rng, photo)


def _font_picture(digit: int, rng: np.random.Generator) -> Image.Image:
    """One digit typeset in a bundled font at random weight, slant, width and rotation."""
    size = int(rng.integers(48, 140))
    choice = int(rng.integers(0, 3))
    if choice == 0:
        font = ImageFont.load_default(size=size)  # Pillow's own font (Aileron)
    else:
        name = ("DejaVuSerif.ttf", "DejaVuSansMono.ttf")[choice - 1]
        font = ImageFont.truetype(str(FONT_DIR / name), size=size)
    canvas = int(size * 2)
    mask = Image.new("L", (canvas, canvas), 0)
    weight = int(rng.integers(0, max(1, size // 18) + 1))  # outline stroke: regular to bold
    ImageDraw.Draw(mask).text(
        (canvas / 2, canvas / 2), str(digit), fill=255, font=font, anchor="mm", stroke_width=weight, stroke_fill=255
    )
    slant, squeeze = rng.uniform(-0.3, 0.3), rng.uniform(0.7, 1.2)
    c = canvas / 2
    # Image.transform maps output (x, y) → input (a x + b y + c0, d x + e y + f).
    mask = mask.transform(
        mask.size, Image.Transform.AFFINE, (1 / squeeze, slant, c - c / squeeze - slant * c, 0, 1, 0),
        resample=Image.Resampling.BILINEAR,
    )  # fmt: skip
    mask = mask.rotate(float(rng.uniform(-10, 10)), resample=Image.Resampling.BILINEAR)
    ink = np.asarray(mask, dtype=np.float64) / 255.0
    return _on_paper(ink, rng, photo=bool(rng.random() < 0.3))


def _on_paper(ink: np.ndarray, rng: np.random.Generator, photo: bool) -> Image.Image:
    """Ink coverage (H, W) in [0, 1] → a grey picture; `photo` adds lighting, texture, camera blur and JPEG."""
    h, w = ink.shape
    paper = rng.uniform(205, 250)
    dark = rng.uniform(0, 90)  # pen ink is never quite black
    if not photo:
        picture = paper + (dark - paper) * ink
        return Image.fromarray(np.clip(picture, 0, 255).round().astype(np.uint8), mode="L")
    dark = rng.uniform(50, 140)  # grey ink: pencil or a faded pen in room light
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    angle = rng.uniform(0, 2 * math.pi)
    light = paper - rng.uniform(8, 35) * ((math.cos(angle) * xx + math.sin(angle) * yy) + 0.5)  # a lamp at one side
    light = light - rng.uniform(0, 12) * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 4  # darker corners
    texture = rng.normal(0, rng.uniform(2, 6), (h, w))
    texture = ndimage.gaussian_filter(texture, 1.2)
    picture = light + texture + (dark - light) * ink
    image = Image.fromarray(np.clip(picture, 0, 255).round().astype(np.uint8), mode="L")
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(20, 70)))
    return Image.open(io.BytesIO(buffer.getvalue())).convert("L")


def picture(kind: str, digit: int, rng: np.random.Generator) -> Image.Image:
    """The raw picture (before to_mnist) of one digit by one writer."""
    if kind == "pen":
        return _pen_picture(digit, rng, photo=False)
    if kind == "photo":
        return _pen_picture(digit, rng, photo=True)
    if kind == "font":
        return _font_picture(digit, rng)
    raise ValueError(f"unknown writer {kind!r}; use one of {KINDS}")


def generate(
    rng: np.random.Generator, per_class: int = PER_CLASS, cells: list[tuple[str, int]] | None = None
) -> OutsideSet:
    """`per_class` digits of each class from each writer, in MNIST format via to_mnist.

    Each (writer, class) cell draws from its own child of `rng` (spawned in the fixed order of KINDS × 0..9),
    so any cell can be regenerated alone; `cells` limits the output to those cells.
    """
    children = rng.spawn(len(KINDS) * 10)
    images, labels, names = [], [], []
    for k, kind in enumerate(KINDS):
        for digit in range(10):
            if cells is not None and (kind, digit) not in cells:
                continue
            cell_rng = children[k * 10 + digit]
            made = 0
            while made < per_class:
                try:
                    # "flat": the shipped set was made with one paper level per picture; the default background
                    # estimate removes these pictures' uneven light better (regenerate the set to use it)
                    final = to_mnist(picture(kind, digit, cell_rng), background="flat")  # (28, 28) float32 [0, 1]
                except PreprocessError:  # a draw too faint to find ink in: draw another
                    continue
                images.append(np.round(final * 255.0).astype(np.uint8))
                labels.append(digit)
                names.append(kind)
                made += 1
    return OutsideSet(np.stack(images), np.asarray(labels, dtype=np.int64), np.asarray(names))


def save(data: OutsideSet, path: str | Path) -> Path:
    """Write a compressed .npz (images uint8, labels, kinds)."""
    kinds = data.kinds.astype("U8")
    return write_atomically(path, lambda fh: np.savez_compressed(fh, images=data.images, labels=data.labels,
                                                                 kinds=kinds))  # fmt: skip


def load(path: str | Path = SHIPPED) -> OutsideSet:
    """Read an outside set written by `save` (no pickles)."""
    with np.load(Path(path), allow_pickle=False) as data:
        return OutsideSet(data["images"], data["labels"].astype(np.int64), data["kinds"].astype(str))


def load_folder(folder: str | Path) -> OutsideSet:
    """Every picture in a folder through to_mnist (label from a leading digit in the name, else −1)."""
    from lib.preprocess import open_image

    folder = Path(folder)
    images, labels = [], []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"):
            continue
        final = to_mnist(open_image(path.read_bytes()))
        images.append(np.round(final * 255.0).astype(np.uint8))
        labels.append(int(path.name[0]) if path.name[0].isdigit() else -1)
    if not images:
        raise ValueError(f"{folder.name}: no pictures (png, jpg, webp, bmp, gif) in the folder")
    return OutsideSet(np.stack(images), np.asarray(labels, dtype=np.int64), np.full(len(images), "folder"))


def main() -> None:
    """python -m lib.outside: regenerate the shipped set."""
    data = generate(np.random.default_rng(SEED))
    print(f"wrote {save(data, SHIPPED)}: {len(data.images)} digits")


if __name__ == "__main__":
    main()
