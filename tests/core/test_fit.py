"""The one training loop: `fit` against a hand-written loop, `Batches` against torch.randperm, progress reports."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from core.fit import Batches, Progress, fit

COUNT, SIZE = 20, 6  # 20 pictures in batches of 6: 6, 6, 6 and a short 2 per pass


def _data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(COUNT, 3, generator=generator)  # (20, 3)
    targets = (inputs[:, 0] + 0.5 * inputs[:, 1] > 0).long()  # (20,)
    return inputs, targets


def _model() -> nn.Linear:
    torch.manual_seed(0)  # only the starting weights; both loops below get identical copies
    return nn.Linear(3, 2)


def _training(model: nn.Module) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    return optimizer, torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)


def _reference(steps: int, drop_last: bool = False) -> tuple[nn.Linear, list[tuple[float, int, int]]]:
    """The loop written out by hand: a fresh torch.randperm per pass from the same generator, then zero the
    gradients, backpropagate, step the optimizer and the schedule. Returns the model and, per step, (summed loss,
    right answers, batch size)."""
    inputs, targets = _data()
    model = _model()
    optimizer, schedule = _training(model)
    generator = torch.Generator().manual_seed(7)
    done, per_step = 0, []
    while done < steps:
        order = torch.randperm(COUNT, generator=generator)
        for start in range(0, COUNT, SIZE):
            batch = order[start : start + SIZE]
            if done == steps or (drop_last and len(batch) < SIZE):
                break
            logits = model(inputs[batch])
            loss = nn.functional.cross_entropy(logits, targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            right = int((logits.detach().argmax(1) == targets[batch]).sum())
            per_step.append((float(loss.detach()) * len(batch), right, len(batch)))
            done += 1
    return model, per_step


def _fit(steps: int, drop_last: bool = False, **options):  # type: ignore[no-untyped-def]
    inputs, targets = _data()
    model = _model()
    optimizer, schedule = _training(model)
    batches = Batches(COUNT, SIZE, torch.Generator().manual_seed(7), drop_last=drop_last)

    def loss_of(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model(inputs[batch])
        return nn.functional.cross_entropy(logits, targets[batch]), logits

    fitted = fit(loss_of, optimizer, batches, steps, targets=targets, schedule=schedule, **options)
    return model, fitted


@pytest.mark.parametrize("drop_last", [False, True])
def test_fit_gives_exactly_the_weights_of_the_hand_written_loop(drop_last):
    """Test whether 11 nudges of `fit` (over three passes, momentum and a step schedule) leave exactly the weights
    of the same loop written by hand with the same generator and optimizer."""
    model, fitted = _fit(11, drop_last)
    reference, _ = _reference(11, drop_last)
    assert fitted.steps == 11 and fitted.seconds >= 0
    assert torch.equal(model.weight, reference.weight) and torch.equal(model.bias, reference.bias)


def test_progress_reports_come_every_report_every_nudges_and_after_the_last():
    """Test whether `after_step` runs once per nudge and `on_progress` at nudges 4, 8 and 10 of 10, each with the
    loss and accuracy over the nudges since the previous report (weighted by batch size) and the passes so far."""
    steps, reports = [], []
    _fit(10, after_step=steps.append, on_progress=reports.append, report_every=4, stage="Training", stage_index=1,
         stages=3)
    _, per_step = _reference(10)
    assert steps == list(range(1, 11))
    assert [report.step for report in reports] == [4, 8, 10]
    for report, (start, stop) in zip(reports, [(0, 4), (4, 8), (8, 10)]):
        window = per_step[start:stop]
        seen = sum(size for _, _, size in window)
        assert report.loss == pytest.approx(sum(loss for loss, _, _ in window) / seen, rel=1e-6)
        assert report.accuracy == pytest.approx(sum(right for _, right, _ in window) / seen)
        assert report.epoch == pytest.approx(stop / 4)  # 4 nudges per pass through the 20 pictures
        assert (report.total_steps, report.stage, report.stage_index, report.stages) == (10, "Training", 1, 3)


def test_without_targets_the_accuracy_is_not_measured():
    """Test whether a `loss_of` that returns only the loss gives reports with NaN accuracy."""
    inputs, targets = _data()
    model = _model()
    optimizer, _ = _training(model)
    reports: list[Progress] = []
    fit(lambda batch: nn.functional.cross_entropy(model(inputs[batch]), targets[batch]), optimizer,
        Batches(COUNT, SIZE, torch.Generator().manual_seed(7)), 3, on_progress=reports.append)
    assert [report.step for report in reports] == [1, 2, 3]
    assert all(math.isnan(report.accuracy) and report.loss > 0 for report in reports)


@pytest.mark.parametrize("where", ["on_progress", "after_step"])
def test_raising_in_a_callback_stops_the_training(where):
    """Test whether an exception from `on_progress` or `after_step` (a rerun, a closed tab) stops `fit` at that
    nudge: no further nudge is made, the weights are those after 4 nudges."""
    class Stop(Exception):
        pass

    made = []

    def stop_at_four(item) -> None:  # type: ignore[no-untyped-def]
        step = item.step if isinstance(item, Progress) else item
        made.append(step)
        if step == 4:
            raise Stop

    inputs, targets = _data()
    model = _model()
    optimizer, schedule = _training(model)
    calls = []

    def loss_of(batch: torch.Tensor) -> torch.Tensor:
        calls.append(len(batch))
        return nn.functional.cross_entropy(model(inputs[batch]), targets[batch])

    with pytest.raises(Stop):
        fit(loss_of, optimizer, Batches(COUNT, SIZE, torch.Generator().manual_seed(7)), 10, schedule=schedule,
            **{where: stop_at_four})
    reference, _ = _reference(4)
    assert len(calls) == 4 and made[-1] == 4
    assert torch.equal(model.weight, reference.weight) and torch.equal(model.bias, reference.bias)


def test_bad_step_counts_are_refused():
    """Test whether a negative number of nudges or a report interval below 1 raises ValueError."""
    with pytest.raises(ValueError, match="total_steps"):
        _fit(-1)
    with pytest.raises(ValueError, match="report_every"):
        _fit(3, report_every=0)


# ------------------------------------------------------------------------------------------ batches
@pytest.mark.parametrize(("drop_last", "sizes"), [(True, [4, 4]), (False, [4, 4, 2])])
def test_batches_follow_a_new_torch_randperm_every_pass(drop_last, sizes):
    """Test whether each pass through 10 pictures in batches of 4 follows a fresh `torch.randperm` from the same
    generator; with `drop_last` only full batches come (the short remainder waits for the next pass)."""
    batches = Batches(10, 4, torch.Generator().manual_seed(3), drop_last=drop_last)
    assert batches.per_pass == len(sizes)
    drawn = iter(batches)
    reference = torch.Generator().manual_seed(3)
    orders = []
    for _ in range(3):  # three passes
        order = torch.randperm(10, generator=reference)
        orders.append(order)
        for index, size in enumerate(sizes):
            batch = next(drawn)
            assert torch.equal(batch, order[4 * index : 4 * index + size])
    assert not torch.equal(orders[0], orders[1])  # a new order each pass, not the same one again


def test_impossible_batches_are_refused():
    """Test whether a batch bigger than the pile, or of no pictures, raises ValueError."""
    for count, size in [(10, 11), (10, 0), (0, 1)]:
        with pytest.raises(ValueError, match="batch size"):
            Batches(count, size, torch.Generator())


# ------------------------------------------------------------------------------------------ progress
def test_progress_fraction_runs_from_zero_to_one_over_all_stages():
    """Test whether `fraction` counts finished stages plus the share of the current one, and stays within 0..1."""
    assert Progress(0, 10).fraction == 0.0
    assert Progress(5, 10).fraction == 0.5
    assert Progress(5, 10, stage_index=1, stages=4).fraction == pytest.approx((1 + 0.5) / 4)
    assert Progress(10, 10, stage_index=3, stages=4).fraction == 1.0
    assert Progress(0, 0, stage_index=1, stages=2).fraction == 1.0  # a stage with nothing to do is done
    assert Progress(12, 10).fraction == 1.0
    assert Progress(12, 160, stage="Learning").text == "Learning… 12 of 160 nudges"
