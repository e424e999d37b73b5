"""Figures for the splitting-the-data lesson: the three piles as picture strips, and the three curves."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

from core.figures import FONT, PALETTE
from core.lessons.splits.experiment import SplitRun
from core.scenes import COARSE_CLASSES

CURVE_HEIGHT = 370
PILES: tuple[str, ...] = ("practice", "validation", "test")
PILE_NAMES: dict[str, str] = {
    "practice": "practice pile (training)",
    "validation": "mock exam (validation)",
    "test": "final exam (test)",
}
PILE_COLOURS: dict[str, str] = {"practice": PALETTE[4], "validation": PALETTE[0], "test": PALETTE[2]}
WRONG = PALETTE[5]  # vermillion: an answer the shuffling made wrong


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[index : index + 2], 16) for index in (1, 3, 5))  # type: ignore[return-value]


def pile_strip(
    images: np.ndarray,
    pile: str,
    columns: int = 6,
    rows: int = 1,
    tile: int = 64,
    answers: Sequence[int] | None = None,
    truth: Sequence[int] | None = None,
) -> np.ndarray:
    """The first `columns × rows` pictures of a pile, enlarged to `tile` pixels, in a frame of the pile's
    colour: (H, W, 3) uint8. With `answers`, each picture gets the name it is taught underneath — white on
    vermillion when it differs from `truth` (a shuffled answer)."""
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected pictures shaped (N, H, W, 3), got {images.shape}")
    if pile not in PILE_COLOURS:
        raise ValueError(f"unknown pile {pile!r}; expected one of {PILES}")
    if columns < 1 or rows < 1 or tile < 8:
        raise ValueError("columns and rows must be at least 1, tile at least 8 pixels")
    gap, frame = 4, 4
    band = 18 if answers is not None else 0
    width = frame * 2 + columns * tile + (columns - 1) * gap
    height = frame * 2 + rows * (tile + band) + (rows - 1) * gap
    canvas = Image.new("RGB", (width, height), _rgb(PILE_COLOURS[pile]))
    inner = ImageDraw.Draw(canvas)
    inner.rectangle([frame, frame, width - frame - 1, height - frame - 1], fill=(255, 255, 255))
    font = ImageFont.load_default(size=13)
    for index, picture in enumerate(images[: columns * rows]):
        row, column = divmod(index, columns)
        left, top = frame + column * (tile + gap), frame + row * (tile + band + gap)
        canvas.paste(Image.fromarray(picture).resize((tile, tile), Image.Resampling.BICUBIC), (left, top))
        if answers is None:
            continue
        name = COARSE_CLASSES[int(answers[index])]
        wrong = truth is not None and int(truth[index]) != int(answers[index])
        if wrong:
            inner.rectangle([left, top + tile, left + tile - 1, top + tile + band - 1], fill=_rgb(WRONG))
        text_width = inner.textlength(name, font=font)
        inner.text((left + (tile - text_width) / 2, top + tile + 1), name, font=font,
                   fill=(255, 255, 255) if wrong else (40, 40, 40))
    return np.asarray(canvas)


def accuracy_curves(run: SplitRun, height: int = CURVE_HEIGHT) -> go.Figure:
    """Right answers (%) on each pile against nudges made; a dashed line where the mock exam was best,
    and a star on the final exam at that moment: the one score to report."""
    figure = go.Figure()
    curves = {"practice": run.practice, "validation": run.validation, "test": run.test}
    passes = [nudges * run.settings.pictures_per_nudge / run.settings.num_practice for nudges in run.nudges]
    for pile in PILES:
        name = PILE_NAMES[pile]
        figure.add_trace(go.Scatter(
            x=list(run.nudges), y=[100 * value for value in curves[pile]], mode="lines", name=name,
            line=dict(color=PILE_COLOURS[pile], width=3.5 if pile == "practice" else 3,
                      dash="dot" if pile == "test" else "solid"),
            customdata=passes,
            hovertemplate=f"{name}<br>after %{{x}} nudges (%{{customdata:.1f}} times through the practice "
                          "pile): %{y:.0f}% right<extra></extra>",
        ))
    stop = run.stopped_at
    figure.add_vline(x=stop, line_dash="dash", line_color="#444", line_width=2)
    early = stop < 0.6 * run.settings.nudges  # write beside the line, on the side with more room
    where = "stop here:<br>best mock exam" if run.best else "best mock exam:<br>before any practice"
    figure.add_annotation(x=stop, y=0.0, yref="paper", text=where, showarrow=False,
                          xanchor="left" if early else "right", xshift=6 if early else -6, yanchor="bottom",
                          align="left" if early else "right", font=dict(size=14, color="#444"),
                          bgcolor="rgba(255,255,255,0.85)")
    figure.add_trace(go.Scatter(
        x=[stop], y=[100 * run.exam_score], mode="markers+text", name="exam score to report",
        marker=dict(symbol="star", size=20, color=PILE_COLOURS["test"], line=dict(color="#222", width=1.5)),
        text=[f"<b>{run.exam_score:.0%}</b>"], textposition="bottom right" if early else "bottom left", textfont=dict(size=17, color="#222"),
        hovertemplate="final exam at the chosen moment: %{y:.0f}% right<extra></extra>",
    ))
    figure.add_hline(y=50, line_dash="dot", line_color="#999", annotation_text="guessing",
                     annotation_position="bottom right" if early else "bottom left",
                     annotation_font=dict(size=13, color="#777"))
    _mark_gap(figure, run)
    figure.update_xaxes(title_text="practice so far (nudges of the knobs)",
                        range=[-0.02 * run.settings.nudges, run.settings.nudges * 1.03],
                        showgrid=True, gridcolor="#eee")
    lowest = min(min(values) for values in curves.values())
    figure.update_yaxes(title_text="right answers", range=[min(30, 10 * int(10 * lowest) - 5), 102], ticksuffix="%", showgrid=True, gridcolor="#eee")
    figure.update_layout(
        height=height, margin=dict(l=10, r=10, t=70, b=10), font=FONT, plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0, font=dict(size=14),
                    entrywidth=0.5, entrywidthmode="fraction"),  # two entries a row
    )
    return figure


def _mark_gap(figure: go.Figure, run: SplitRun) -> None:
    """After the last nudge: a two-headed arrow from the practice score down to the final exam's, labelled
    with the gap in points (just the label when the gap is too small for an arrow)."""
    end, top, bottom = run.nudges[-1], 100 * run.final_practice, 100 * run.final_test
    points = round(100 * run.gap)
    label = f"<b>gap: {points} point{'s' if points != 1 else ''}</b>"
    if abs(top - bottom) >= 8:
        figure.add_annotation(x=end, y=bottom, ax=end, ay=top, xref="x", yref="y", axref="x", ayref="y", text="",
                              showarrow=True, arrowhead=2, startarrowhead=2, arrowside="end+start", arrowwidth=2,
                              arrowcolor="#222")
        figure.add_annotation(x=end, y=(top + bottom) / 2, text=label, showarrow=False, xanchor="right", xshift=-8,
                              font=dict(size=15, color="#222"), bgcolor="rgba(255,255,255,0.85)")
    else:
        figure.add_annotation(x=end, y=min(top, bottom) - 12, text=label, showarrow=False, xanchor="right",
                              yanchor="top", font=dict(size=15, color="#222"), bgcolor="rgba(255,255,255,0.85)")
