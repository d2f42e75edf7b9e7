"""What every trainer shares: seeding, progress and cancellation, a live loss curve, sample previews.

    monitor = TrainingMonitor(ctx, steps, history, samples=lambda: grid_of_samples())
    for step in range(steps):
        ...
        monitor.step(loss=loss.item())
    monitor.finish()

Previews are paced by the clock (a curve about every second, samples every ten seconds or so,
further apart when drawing them is slow, none when the final ones are due within that time) so they
cost a small, bounded share of any run. Sample previews must not touch the training's random state:
trainers draw training noise from their own ``torch.Generator`` and samplers from another one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nodeflow import Context
from nodes.train.checkpoints import History
from nodes.train.curve import loss_curve

__all__ = ["TrainingMonitor", "seeded_generator", "cosine_lr", "cpu_threads"]


@contextmanager
def cpu_threads() -> Iterator[None]:
    """Run torch on ``NODEFLOW_TRAIN_THREADS`` CPU threads (default 1), then restore the setting.

    These models are small: their operations are too short to gain from more threads, and when the
    CPU is shared, torch's spinning worker threads make each step many times slower (measured on
    2 busy cores: 0.4 s a step with one thread, 5-8 s with two).
    """
    import torch

    wanted = int(os.environ.get("NODEFLOW_TRAIN_THREADS", "1") or 0)
    previous = torch.get_num_threads()
    if wanted > 0:
        torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def seeded_generator(seed: int) -> Any:
    """A CPU torch.Generator for training randomness (batches, noise, timesteps)."""
    import torch

    return torch.Generator().manual_seed(int(seed) % (2**63))


def cosine_lr(step: int, total: int, peak: float, warmup: int = 50) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    import math

    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


class TrainingMonitor:
    """Records losses into a History and shows them, with progress and cancellation, on the node."""

    def __init__(
        self,
        ctx: Context | None,
        steps: int,
        history: History,
        *,
        samples: Callable[[], Any] | None = None,
        curve_every_s: float = 1.0,
        samples_every_s: float = 10.0,
        tracker: Any = None,
    ):
        self.ctx = ctx
        self.tracker = tracker  # a tracking.Tracker: losses and samples go there too
        self.steps = steps
        self.history = history
        self.samples = samples
        self.start = history.steps
        self.curve_every_s = curve_every_s
        self.samples_every_s = samples_every_s
        self.done = 0
        now = time.monotonic()
        self._began = now
        self._next_curve = now + curve_every_s
        self._next_samples = now + samples_every_s / 2  # the first samples come early

    def step(self, **losses: float) -> None:
        """Record one step's losses; report progress; stop here if the run was cancelled."""
        for name, value in losses.items():
            self.history.curves.setdefault(name, []).append(float(value))
        self.done += 1
        if self.tracker is not None:
            self.tracker.log_metrics(self.start + self.done, losses)
        ctx = self.ctx
        if ctx is None:
            return
        ctx.progress(self.done, self.steps)  # also raises Cancelled when asked to stop
        now = time.monotonic()
        if now >= self._next_curve:
            self._next_curve = now + self.curve_every_s
            self.show_curve()
        if self.samples is not None and now >= self._next_samples and not self._finish_is_near(now):
            self.show_samples()
            cost = time.monotonic() - now
            # never let previews take more than about 2% of the training time
            self._next_samples = time.monotonic() + max(self.samples_every_s, 50 * cost)

    def _finish_is_near(self, now: float) -> bool:
        # finish() shows samples anyway: drawing them shortly before is time lost to training
        per_step = (now - self._began) / self.done
        return per_step * (self.steps - self.done) < self.samples_every_s

    def show_curve(self) -> None:
        if self.ctx is not None:
            self.ctx.preview(loss_curve(self.history.curves, start=self.start), name="loss")

    def show_samples(self) -> None:
        if self.ctx is not None and self.samples is not None:
            sample = self.samples()
            self.ctx.preview(sample, name="samples")
            if self.tracker is not None:
                step = self.start + self.done
                if isinstance(sample, str):
                    self.tracker.log_text(step, "samples", sample)
                else:
                    self.tracker.log_image(step, "samples", sample)

    def finish(self) -> None:
        """Final curve and samples, whatever the clock says."""
        self.show_curve()
        self.show_samples()
        if self.ctx is not None:
            summary = ", ".join(f"{name} {values[-1]:.4f}" for name, values in self.history.curves.items() if values)
            self.ctx.log(f"trained {self.done} steps ({self.history.steps} in all): {summary}")
