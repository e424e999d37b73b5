"""Plotly figures of the seasoning lesson: the "how much?" curve, the tuner's trials, and Optuna's own figures."""

from __future__ import annotations

from typing import Sequence

import optuna
import plotly.graph_objects as go

from core.figures import PALETTE, _layout
from core.lessons.seasoning.experiment import CurvePoint
from core.lessons.seasoning.tuner import GOALS, TrialRecord, quiet

CURVE_LINES = (
    ("ordinary_accuracy", "right on ordinary pictures", PALETTE[4], "solid"),
    ("surprise_accuracy", "right on surprise pictures", PALETTE[5], "solid"),
    ("grass_share", "evidence on the grass", PALETTE[2], "dot"),
)


def _strength_axis(strengths: Sequence[float]) -> tuple[list[float], list[str]]:
    """Positions on a log-like axis where 0 still has a place: 0 sits one step left of the smallest strength."""
    positive = sorted(value for value in strengths if value > 0)
    zero_at = positive[0] / 3 if positive else 1.0
    return [value if value > 0 else zero_at for value in strengths], [f"{value:g}" for value in strengths]


def how_much_curve(points: Sequence[CurvePoint]) -> go.Figure:
    """For each strength: the mean over seeds (line) and the range (band) of ordinary accuracy, surprise accuracy
    and the grass evidence share, in %; the strength axis is logarithmic (0 drawn at its left end)."""
    strengths = [point.strength for point in points]
    positions, labels = _strength_axis(strengths)
    figure = go.Figure()
    for name, label, colour, dash in CURVE_LINES:
        low = [100 * point.spread(name)[0] for point in points]
        high = [100 * point.spread(name)[1] for point in points]
        figure.add_scatter(x=positions + positions[::-1], y=high + low[::-1], fill="toself", line=dict(width=0),
                           fillcolor=colour, opacity=0.18, hoverinfo="skip", showlegend=False)
        figure.add_scatter(x=positions, y=[100 * point.mean(name) for point in points], mode="lines+markers",
                           name=label, line=dict(color=colour, width=3, dash=dash),
                           hovertemplate="strength %{text}: %{y:.0f}%<extra>" + label + "</extra>", text=labels)
    figure.add_hline(y=50, line_dash="dot", line_color="#999", annotation_text="guessing",
                     annotation_position="bottom right")
    _layout(figure, "How much seasoning? (line: average over seeds; band: lowest to highest)", height=420)
    figure.update_xaxes(title="strength of the seasoning", type="log", tickvals=positions, ticktext=labels)
    figure.update_yaxes(title="%", range=[-2, 102])
    figure.update_layout(margin=dict(b=100))
    return figure


def trials_figure(records: Sequence[TrialRecord], pareto: Sequence[int] = (), chosen: int | None = None) -> go.Figure:
    """Each trial as a point (ordinary vs surprise accuracy): finished trials, those stopped early, the Pareto front
    (joined by a line) and the chosen one. Drawn by NetLens so it can be redrawn live while the study runs."""
    figure = go.Figure()
    groups = (
        ("tried", [r for r in records if r.state == "complete" and r.number not in pareto], PALETTE[1], "circle"),
        ("stopped early (pruned)", [r for r in records if r.state == "pruned"], "#999999", "x"),
        ("best trade-offs (Pareto front)", sorted((r for r in records if r.number in pareto),
                                                  key=lambda r: r.ordinary_accuracy), PALETTE[5], "diamond"),
    )
    for name, chosen_records, colour, symbol in groups:
        if not chosen_records:
            continue
        figure.add_scatter(
            x=[100 * r.ordinary_accuracy for r in chosen_records], y=[100 * r.surprise_accuracy for r in chosen_records],
            mode="lines+markers" if name.startswith("best") else "markers", name=name,
            marker=dict(color=colour, size=12, symbol=symbol), line=dict(color=colour, width=2, dash="dot"),
            text=[f"trial {r.number}: width {r.recipe.width}, learning rate {r.recipe.learning_rate:.3f}, "
                  f"{r.recipe.epochs} passes, strength {r.recipe.strength:.2g}" for r in chosen_records],
            hovertemplate="%{text}<br>ordinary %{x:.0f}%, surprise %{y:.0f}%<extra></extra>",
        )
    if chosen is not None:
        record = next(r for r in records if r.number == chosen)
        figure.add_scatter(x=[100 * record.ordinary_accuracy], y=[100 * record.surprise_accuracy], mode="markers",
                           name=f"chosen: trial {chosen}", marker=dict(size=22, color="rgba(0,0,0,0)",
                                                                       line=dict(color="#000", width=3)))
    _layout(figure, "Every trial: the two goals", height=420)
    figure.update_xaxes(title=GOALS[0] + " (%)", range=[-2, 102])
    figure.update_yaxes(title=GOALS[1] + " (%)", range=[-2, 102])
    figure.update_layout(margin=dict(b=100))
    return figure


def optuna_figures(study: optuna.Study, only: tuple[str, ...] = ("pareto", "history", "importance")
                   ) -> dict[str, go.Figure]:
    """Optuna's own figures of the study: its Pareto front, the history of the average of both goals, and which
    settings mattered most for it (fANOVA importances) — those named in `only` (the page draws the front alone
    while the study runs: importances take longest)."""
    def average(trial: optuna.trial.FrozenTrial) -> float:
        return 100 * sum(trial.values) / 2

    with quiet():
        figures = {}
        if "pareto" in only:
            figures["pareto"] = optuna.visualization.plot_pareto_front(
                study, target_names=[f"{goal} (share)" for goal in GOALS])
        if "history" in only:
            figures["history"] = optuna.visualization.plot_optimization_history(
                study, target=average, target_name="average of both goals (%)")
        complete = [trial for trial in study.trials if trial.state == optuna.trial.TrialState.COMPLETE]
        if "importance" in only and len(complete) >= 2:
            # fANOVA: how much of the spread of the average each setting explains, whichever way is better (Optuna
            # 5's default evaluator, PED-ANOVA, ranks settings for *low* values and warns about it).
            figures["importance"] = optuna.visualization.plot_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0), target=average,
                target_name="average of both goals")
    for figure in figures.values():
        figure.update_layout(height=380, margin=dict(l=10, r=10, t=50, b=10), font=dict(size=14))
    return figures
