"""The one training loop every lesson uses: nudge the weights batch by batch, report progress, time the nudges.

A lesson says *what* a nudge is (`loss_of`: the loss on a batch), *which* pictures go in each batch (`Batches`)
and *what to watch* (`after_step`: e.g. score a held-out pile); `fit` does the nudging the same way for all.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import torch


@dataclass(frozen=True)
class Progress:
    """One report of a long computation, in the same shape for every lesson.

    `step` of `total_steps` counts the current stage's `unit` (nudges, pictures seen, programs tried);
    a computation made of several stages (four trainings, three searches) numbers them with `stage_index`
    of `stages`, so `fraction` runs from 0 to 1 over the whole. `loss` and `accuracy` are averaged over the
    nudges since the previous report (NaN when not measured)."""

    step: int
    total_steps: int
    loss: float = math.nan
    accuracy: float = math.nan
    epoch: float = 0.0  # passes through the training pictures so far
    stage: str = "Learning"  # what is being done, in plain words
    unit: str = "nudges"
    stage_index: int = 0
    stages: int = 1

    @property
    def fraction(self) -> float:
        """How much of the whole computation is done, 0..1."""
        within = self.step / self.total_steps if self.total_steps else 1.0
        return min(1.0, (self.stage_index + within) / max(1, self.stages))

    @property
    def text(self) -> str:
        """'Learning… 12 of 160 nudges', for a progress bar."""
        return f"{self.stage}… {self.step:,} of {self.total_steps:,} {self.unit}"


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Batches:
    """Which pictures go into each nudge: passes through `count` pictures in a fresh random order each pass
    (drawn from `generator` when the pass starts), `size` at a time. With `drop_last` a short remainder waits
    for the next pass; otherwise it is a batch of its own."""

    count: int
    size: int
    generator: torch.Generator
    drop_last: bool = False

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.size <= self.count:
            raise ValueError(f"need at least one picture and 1 ≤ batch size ≤ {self.count}, got {self.size}")

    @property
    def per_pass(self) -> int:
        """Nudges in one pass through the pictures."""
        return self.count // self.size if self.drop_last else -(-self.count // self.size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        while True:
            order = torch.randperm(self.count, generator=self.generator)
            stop = self.count - self.size + 1 if self.drop_last else self.count
            for start in range(0, stop, self.size):
                yield order[start : start + self.size]


@dataclass(frozen=True)
class Fitted:
    steps: int
    seconds: float  # wall-clock time of the nudges alone (not of `after_step` or progress reports)


LossOf = Callable[[torch.Tensor], "torch.Tensor | tuple[torch.Tensor, torch.Tensor]"]


def fit(
    loss_of: LossOf,
    optimizer: torch.optim.Optimizer,
    batches: Batches | Iterator[torch.Tensor],
    total_steps: int,
    *,
    targets: torch.Tensor | None = None,
    schedule: torch.optim.lr_scheduler.LRScheduler | None = None,
    after_step: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
    report_every: int = 1,
    stage: str = "Learning",
    stage_index: int = 0,
    stages: int = 1,
) -> Fitted:
    """Make `total_steps` nudges: for each batch (indices from `batches`), `loss_of(batch)` gives the mean loss
    (or `(loss, logits)`, whose right answers against `targets[batch]` are counted), then backpropagation and
    one optimizer (and `schedule`) step. `after_step(step)` runs after every nudge, `on_progress` every
    `report_every` nudges and after the last; either may raise to stop the training."""
    if total_steps < 0 or report_every < 1:
        raise ValueError(f"total_steps must be ≥ 0 and report_every ≥ 1, got {total_steps} and {report_every}")
    per_pass = batches.per_pass if isinstance(batches, Batches) else None
    busy, loss_sum, correct, seen = 0.0, 0.0, 0, 0
    iterator = iter(batches)
    for step in range(1, total_steps + 1):
        started = time.perf_counter()
        batch = next(iterator)
        output = loss_of(batch)
        loss, logits = output if isinstance(output, tuple) else (output, None)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        busy += time.perf_counter() - started
        if on_progress is not None:
            loss_sum += float(loss.detach()) * len(batch)
            if logits is not None and targets is not None:
                correct += int((logits.detach().argmax(1) == targets[batch]).sum())
            seen += len(batch)
        if after_step is not None:
            after_step(step)
        if on_progress is not None and (step % report_every == 0 or step == total_steps):
            on_progress(Progress(
                step, total_steps, loss_sum / seen, correct / seen if targets is not None else math.nan,
                step / per_pass if per_pass else 0.0, stage, "nudges", stage_index, stages,
            ))
            loss_sum, correct, seen = 0.0, 0, 0
    return Fitted(total_steps, busy)
