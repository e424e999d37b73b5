"""The squeeze lesson's results in plain sentences (Markdown, **bold** leads), computed from the numbers."""

from __future__ import annotations

from core.lessons.squeeze.experiment import SqueezeResult
from core.lessons.squeeze.measure import KINDS, NAMES, SAME_GRASS, SAME_MAP

SHRINKS: tuple[str, ...] = KINDS[1:]


def fits_words(result: SqueezeResult) -> str:
    """Which networks fit the pretend phone, and what squeezing cost in accuracy."""
    budget = result.settings.phone_kb
    big = result.model("big")
    fitting = [model for model in result.models if model.kb <= budget]
    if not fitting:
        return f"**None of these networks fits in {budget:g} KB.** Give the phone more room, or squeeze harder."
    best = max(fitting, key=lambda model: (model.accuracy, -model.kb))
    fits = "fits" if big.kb <= budget else "does not fit"
    return (f"**The big network ({big.kb:.0f} KB) {fits} in the phone's {budget:g} KB.** "
            f"The best network that fits: **{best.name.lower()}**, {best.kb:.0f} KB, {best.accuracy:.0%} right on "
            f"new pictures (the big one: {big.accuracy:.0%}).")


def speed_words(result: SqueezeResult) -> str:
    """What the clock says, honestly: int8 pays off on batches, not one picture at a time."""
    big, int8 = result.model("big"), result.model("int8")
    one = "faster" if int8.ms_one < big.ms_one else "slower"
    batch = "faster" if int8.ms_batch < big.ms_batch else "slower"
    return (f"**The clock:** one picture at a time, the int8 network was {one} than the big one "
            f"({int8.ms_one:.2f} vs {big.ms_one:.2f} ms) — converting the picture to 8 bits and back costs time; "
            f"64 pictures at once it was {batch} ({int8.ms_batch:.3f} vs {big.ms_batch:.3f} ms per picture). "
            "Tiny networks like these spend most of their time on overheads, so fewer weights help less than you "
            "would think.")


def few_labels_words(result: SqueezeResult) -> str:
    """'Why not train the small one?', from the same-labels pair and the few-labels pair."""
    distilled, scratch = result.model("distilled"), result.model("scratch")
    few = result.few
    same = abs(distilled.accuracy - scratch.accuracy) < 0.02
    first = (f"**With all {result.settings.num_train:,} labelled pictures, the small network trained directly does "
             f"{'about as well' if same else ('better' if scratch.accuracy > distilled.accuracy else 'worse')}** "
             f"({scratch.accuracy:.0%}) as the one that copied the big network ({distilled.accuracy:.0%}): "
             "copying the big network's answers on pictures it already has the answers for adds little.")
    if few.gain >= 0.05:
        second = (f"**With only {few.labelled} labelled pictures, the copy wins clearly: {few.distilled_accuracy:.0%} "
                  f"against {few.scratch_accuracy:.0%}.** The big network labels {few.unlabelled:,} more pictures "
                  "that nobody labelled, so the small one learns from "
                  f"{(few.labelled + few.unlabelled) / few.labelled:.0f} times as many examples — and from the big "
                  "network's confidence, not just yes or no.")
    else:
        second = (f"**With only {few.labelled} labelled pictures, the copy did not win clearly here** "
                  f"({few.distilled_accuracy:.0%} against {few.scratch_accuracy:.0%}).")
    return first + "\n\n" + second


def map_verdict(result: SqueezeResult, key: str) -> str:
    """One line for one shrunk network: do its maps tell the big network's story?"""
    comparison, big = result.comparison(key), result.comparison("big")
    grass_change = comparison.grass_share - big.grass_share
    grass = ("the same share on the grass" if abs(grass_change) <= SAME_GRASS else
             f"{'more' if grass_change > 0 else 'less'} on the grass ({comparison.grass_share:.0%} vs "
             f"{big.grass_share:.0%})")
    if comparison.survives:
        return (f"**{NAMES[key]}: the explanation survives** — its maps rank the pixels like the big network's "
                f"(rank correlation {comparison.rank_correlation:.2f}), with {grass}.")
    return (f"**{NAMES[key]}: a different explanation** — its maps rank the pixels differently from the big "
            f"network's (rank correlation {comparison.rank_correlation:.2f}, below {SAME_MAP}), with {grass}. "
            "Same answers, other reasons: check its maps before trusting it.")


def maps_summary(result: SqueezeResult) -> str:
    """The verdict of the whole maps step, in one sentence."""
    kept = [NAMES[key].lower() for key in SHRINKS if result.comparison(key).survives]
    lost = [NAMES[key].lower() for key in SHRINKS if not result.comparison(key).survives]
    if not lost:
        return "**Every squeezed network still looks where the big one looks.**"
    if not kept:
        return "**No squeezed network looks where the big one looks.**"
    line = f"**Kept the big network's explanation: {', '.join(kept)}. Changed it: {', '.join(lost)}.**"
    if {"int8", "pruned"} <= {key for key in SHRINKS if result.comparison(key).survives} and \
            {"distilled", "scratch"} <= {key for key in SHRINKS if not result.comparison(key).survives}:
        line += (" Squeezing the big network itself keeps its reasons; a new small network, even one taught by the "
                 "big one, finds reasons of its own.")
    return line


def takeaways(result: SqueezeResult) -> list[str]:
    """Every sentence of the lesson's verdict, in page order."""
    return [fits_words(result), speed_words(result), *few_labels_words(result).split("\n\n"), maps_summary(result),
            *[map_verdict(result, key) for key in SHRINKS]]


def plain(markdown: str) -> str:
    """A sentence without its Markdown emphasis, for the command line."""
    return markdown.replace("**", "")
