"""Drawing-canvas pixels → a PIL image that to_mnist understands (white ink on black), and a check that it is a digit."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage


def canvas_to_image(rgba: np.ndarray) -> Image.Image:
    """RGBA canvas data (H, W, 4) → grayscale ink image; works for black or transparent backgrounds."""
    arr = np.asarray(rgba, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected (H, W, 4) RGBA canvas data, got shape {arr.shape}")
    brightness = arr[..., :3].max(axis=2)  # (H, W) 0..255
    alpha = arr[..., 3] / 255.0 if arr.shape[2] == 4 else 1.0
    return Image.fromarray(np.clip(brightness * alpha, 0, 255).astype(np.uint8), mode="L")


# A drawing that looks like an MNIST digit: thresholds as fractions of the canvas, so any canvas size works.
FILLED = 0.5  # ink on more than half the canvas: painted over (or filled white), not drawn with a line
SCRIBBLE_INK = 0.4  # a digit drawn with the thickest line covers about a third of the canvas; more is a scribble
MAX_HOLES = 3  # enclosed background regions: an 8 has two; a scribble criss-crosses into many
HOLE_SHARE = 0.003  # holes smaller than this share of the canvas are gaps in a retraced stroke, not loops
MIN_BOX = 0.2  # the ink's bounding box must span this share of the canvas side: less is a dot or a tick
MAX_BLOBS = 3  # digits are one or two strokes (a 4 or 5 drawn in pieces: three)
BLOB_SHARE = 0.03  # blobs smaller than this share of all ink are specks, not strokes


@dataclass(frozen=True)
class DrawingCheck:
    """Whether a canvas drawing can be a digit, and the numbers the message quotes."""

    problem: str | None  # None, or "empty", "filled", "scribble", "too_small", "blobs"
    ink_fraction: float  # share of the canvas covered by ink
    box_fraction: float  # the ink's bounding box: longer side / canvas side
    blobs: int  # separate strokes (specks ignored)
    holes: int = 0  # background regions the ink encloses (tiny gaps ignored)

    @property
    def looks_like_digit(self) -> bool:
        """True when none of the checks objects."""
        return self.problem is None


def check_drawing(image: Image.Image | np.ndarray) -> DrawingCheck:
    """Is a white-on-black canvas drawing plausibly one digit? Coverage, bounding box and stroke count decide."""
    gray = np.asarray(image, dtype=np.float64)  # (H, W) 0..255, ink bright
    ink = gray > 127
    share = float(ink.mean())
    if not ink.any():
        return DrawingCheck("empty", 0.0, 0.0, 0)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box_h, box_w = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    box = max(box_h / ink.shape[0], box_w / ink.shape[1])
    labels, count = ndimage.label(ink, structure=np.ones((3, 3)))  # 8-connected: a diagonal stroke is one blob
    sizes = np.bincount(labels.ravel())[1:]
    blobs = int((sizes >= BLOB_SHARE * ink.sum()).sum())
    background, _ = ndimage.label(~ink)  # 4-connected background; a region off the border is a hole
    border = np.unique(np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]]))
    areas = np.bincount(background.ravel())
    areas[border] = 0
    areas[0] = 0
    holes = int((areas >= HOLE_SHARE * ink.size).sum())
    if share > FILLED:
        problem: str | None = "filled"
    elif share > SCRIBBLE_INK or holes > MAX_HOLES:
        problem = "scribble"
    elif box < MIN_BOX:
        problem = "too_small"
    elif blobs > MAX_BLOBS:
        problem = "blobs"
    else:
        problem = None
    return DrawingCheck(problem, share, float(box), blobs, holes)


def ink_mask(image: Image.Image, side: int = 32) -> np.ndarray:
    """Where the canvas has ink, on a coarse side×side grid (bool): enough to tell one drawing from another."""
    small = np.asarray(image.convert("L").resize((side, side), Image.Resampling.BOX), dtype=np.float64)  # (side, side)
    return small > 25.0


def same_drawing(before: np.ndarray | None, now: np.ndarray, keep: float = 0.8) -> bool:
    """Whether `now` continues the drawing `before` (strokes added or undone), not a new one after clearing.

    A continued drawing keeps most of the ink of the smaller of the two; a new one, drawn on a cleared
    canvas, shares little of it.
    """
    if before is None or before.shape != now.shape:
        return False
    smaller = min(int(before.sum()), int(now.sum()))
    if smaller == 0:
        return False
    return int((before & now).sum()) >= keep * smaller


MAX_STROKES_CHARS = 400_000  # a kept drawing's strokes as JSON; a canvas scribbled over for minutes is not kept


def strokes_record(json_data: dict | None, side: int, picture: Image.Image | None = None) -> dict | None:
    """What the canvas needs to redraw a drawing later: its objects, the canvas side they were drawn on and the
    ink picture the page made of them (PNG, base64), so a reopened page shows the result before the next stroke.

    None when there is nothing to keep or the strokes are too large to keep (the page then keeps the last one).
    """
    if not isinstance(json_data, dict) or side <= 0:
        return None
    objects = json_data.get("objects")
    if not isinstance(objects, list):
        return None
    record = {"side": int(side), "objects": objects, "picture": picture_to_text(picture) if objects else None}
    try:
        if len(json.dumps(record)) > MAX_STROKES_CHARS:
            return None
    except (TypeError, ValueError):
        return None
    return record


def picture_to_text(picture: Image.Image | None) -> str | None:
    """A grayscale ink picture as base64 PNG text (a JSON value)."""
    if picture is None:
        return None
    buffer = io.BytesIO()
    picture.convert("L").save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def picture_from_record(record: dict | None) -> Image.Image | None:
    """The ink picture kept with the strokes; None when there is none or it does not decode."""
    text = record.get("picture") if isinstance(record, dict) else None
    if not isinstance(text, str) or len(text) > MAX_STROKES_CHARS:
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(text, validate=True))) as image:
            if image.format != "PNG" or max(image.size) > 4096:
                return None
            return image.convert("L")
    except (ValueError, OSError, Image.DecompressionBombError):
        return None


def drawing_for_canvas(record: dict | None, side: int) -> dict | None:
    """A kept drawing as the canvas's initial drawing on a canvas `side` pixels wide (scaled when it differs)."""
    if not isinstance(record, dict) or not isinstance(record.get("objects"), list) or side <= 0:
        return None
    objects = [o for o in record["objects"] if isinstance(o, dict)]
    if not objects:
        return None
    drawn_on = record.get("side")
    factor = side / drawn_on if isinstance(drawn_on, (int, float)) and drawn_on > 0 else 1.0
    if factor != 1.0:  # positions and scales: Fabric scales a path's points and its stroke width together
        objects = [
            o
            | {
                k: float(o.get(k, default)) * factor
                for k, default in (("left", 0.0), ("top", 0.0), ("scaleX", 1.0), ("scaleY", 1.0))
            }  # fmt: skip
            for o in objects
        ]
    return {"objects": objects}
