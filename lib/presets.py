"""The Train page's two presets: every field each one sets, and how long a run is expected to take here."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from lib.data import Digits
from lib.noise import NoiseConfig
from lib.train import CLASSROOM, TEXTBOOK, recipe, train

SUBSET = 6000  # training digits of a class run: minutes on a shared CPU server, not hours (Appendix 1: all 60,000)


@dataclass(frozen=True)
class Preset:
    """Every Train page field a preset button sets."""

    name: str
    epochs: int
    lr: float
    batch_size: int
    stop_loss: float
    schedule: str
    subset: int
    fresh_noise: bool

    def fields(self) -> dict[str, object]:
        """Field name → value, in the order the page shows them."""
        return {
            "epochs": self.epochs, "lr": self.lr, "batch_size": self.batch_size, "stop_loss": self.stop_loss,
            "schedule": self.schedule, "subset": self.subset, "fresh_noise": self.fresh_noise,
        }  # fmt: skip


def presets(max_images: int) -> dict[str, Preset]:
    """The quick classroom preset and Appendix 1's, the latter within the server's cap on epochs × digits.

    Appendix 1 trains on all 60,000 digits for up to 120 epochs, noised once, and stops at loss 0.0063;
    here it keeps a 6,000-digit subset and as many epochs as the cap allows (the loss criterion usually
    stops it sooner), so that a class on one server waits minutes.
    """
    classroom = Preset("classroom", CLASSROOM.epochs, CLASSROOM.lr, CLASSROOM.batch_size, CLASSROOM.stop_loss,
                       CLASSROOM.schedule, SUBSET, True)  # fmt: skip
    epochs = max(1, min(TEXTBOOK.epochs, max_images // SUBSET))
    textbook = Preset("textbook", epochs, TEXTBOOK.lr, TEXTBOOK.batch_size, TEXTBOOK.stop_loss, TEXTBOOK.schedule,
                      SUBSET, False)  # fmt: skip
    return {"classroom": classroom, "textbook": textbook}


def changed(preset: Preset, values: dict[str, object]) -> list[str]:
    """The fields whose current value differs from what the preset set."""
    return [name for name, value in preset.fields().items() if name in values and values[name] != value]


@dataclass(frozen=True)
class Speed:
    """This server's training speed for one model and batch size, measured now."""

    seconds_per_image: float  # one training step's share per image, past the start-up
    start_seconds: float  # building the model and the first steps
    validation_seconds: float  # one epoch's validation on 1,000 digits

    def expected_seconds(self, epochs: int, digits: int, slowdown: float = 1.0) -> float:
        """A run of `epochs` over `digits` training digits, while `slowdown` trainings share its turns."""
        return (self.start_seconds + epochs * (digits * self.seconds_per_image + self.validation_seconds)) * slowdown


def measure_speed(model: str, batch_size: int, noise: NoiseConfig, digits: Digits, device: torch.device) -> Speed:
    """Time short real trainings (one and four batches, the quicker of two tries each) and a validation pass.

    The difference of the two runs is the per-image cost without the start-up; the validation pass is timed
    on 1,000 digits, as an epoch of the Train page validates.
    """

    def run(batches: int, val: Digits | None) -> float:
        config = recipe("classroom", model=model, batch_size=batch_size, epochs=1, limit=batches * batch_size,
                        val_size=1000)  # fmt: skip
        start = time.perf_counter()
        train(config, noise, digits, val, device)
        return time.perf_counter() - start

    # the quicker of two tries: on a busy server one try can be held up by another thread
    one = min(run(1, None), run(1, None))
    four = min(run(4, None), run(4, None))
    per_image = max(four - one, 1e-6) / (3 * batch_size)
    with_val = run(1, Digits(digits.images[-1000:], digits.labels[-1000:]))
    return Speed(per_image, max(one - per_image * batch_size, 0.0), max(with_val - one, 0.0))
