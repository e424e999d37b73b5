"""The squeeze lesson: sizes measured from real files, shrinks that really shrink, int8 kept quiet, distillation
that beats a small network trained alone when labels are scarce (across seeds), and maps compared."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from torch.nn.utils import prune

from core.explain import explain
from core.fit import Progress
from core.lesson import settings_from_dict, settings_json
from core.lessons.squeeze import LESSON
from core.lessons.squeeze.experiment import (
    KINDS,
    SqueezeSettings,
    distillation_loss,
    few_labels,
    make_data,
    run_squeeze,
    train_big,
    train_small,
    with_budget,
)
from core.lessons.squeeze.figures import few_labels_bars, size_accuracy
from core.lessons.squeeze.int8 import load_int8, quantise, run_int8, save_int8
from core.lessons.squeeze.networks import (
    accuracy,
    build_network,
    count_weights,
    load_float,
    rank_correlation,
    recalibrate_batch_norm,
    save_weights,
    train_network,
)
from core.lessons.squeeze.pruning import kept_filters, mask_filters, thinned
from core.lessons.squeeze.words import fits_words, takeaways
from core.training import to_tensor

# Small settings where the run's mechanics (not its accuracies) are tested: ~2 s instead of ~8.
TINY = SqueezeSettings(num_train=64, unlabelled=64, num_test=32, num_check=4, nudges=8, fine_tune_nudges=4,
                       few_labels=16, seed=3)


@pytest.fixture(scope="module")
def default_data():
    return make_data(SqueezeSettings())


@pytest.fixture(scope="module")
def default_result(default_data):
    """The page's default run, seed 0."""
    return run_squeeze(SqueezeSettings(), default_data)


@pytest.fixture(scope="module")
def trained_big(default_data):
    """A big network trained as the lesson trains it (the default settings, seed 0), and the test pictures."""
    settings = SqueezeSettings()
    inputs, labels = to_tensor(default_data.train.images), torch.as_tensor(default_data.train.labels)
    big, _ = train_big(settings, inputs, labels)
    return big, inputs, labels, to_tensor(default_data.test.images), torch.as_tensor(default_data.test.labels)


# ------------------------------------------------------------------------------------------ sizes and files
def test_every_size_is_the_saved_files_and_the_shrinks_really_shrink(default_result):
    """Test whether each network's size is the length of the very file offered for download, and the order is
    the lesson's: int8 under 40 % of the big file, pruned under half, the small networks smallest; while the
    masks were on, the pruned file was about twice the big one."""
    sizes = {model.key: model.file_bytes for model in default_result.models}
    for model in default_result.models:
        assert len(model.file) == model.file_bytes > 1000
    assert sizes["int8"] < 0.4 * sizes["big"]
    assert sizes["pruned"] < 0.5 * sizes["big"]
    assert sizes["distilled"] == pytest.approx(sizes["scratch"], rel=0.01)
    assert sizes["scratch"] < 0.5 * sizes["pruned"]
    assert 1.8 * sizes["big"] < default_result.masked_file_bytes < 2.2 * sizes["big"]


def test_every_download_reads_back_with_weights_only_and_answers_the_same(default_result, default_data):
    """Test whether every offered file is read back by torch.load(weights_only=True) into a network that gets
    exactly the accuracy the page reports."""
    test, labels = to_tensor(default_data.test.images), torch.as_tensor(default_data.test.labels)
    for model in default_result.models:
        network = load_int8(model.file) if model.key == "int8" else load_float(model.file)
        assert accuracy(network, test, labels) == model.accuracy, model.key


def test_zeros_alone_shrink_nothing_but_cutting_filters_out_does(trained_big, tmp_path):
    """Test the trap the lesson avoids: a network pruned by masks, masks then removed (zeros left in place), saves
    a file as big as the original; the thinned network's is far smaller and has fewer weights."""
    big = trained_big[0]
    masked = mask_filters(big, 0.5)
    zeros = mask_filters(big, 0.5)
    for conv, norm in zeros.conv_blocks():
        for module, name in ((conv, "weight"), (norm, "weight"), (norm, "bias")):
            prune.remove(module, name)
    # the same size, to within the file's bookkeeping (the parameters are stored in another order)
    assert save_weights(zeros, tmp_path / "zeros.pt") == pytest.approx(save_weights(big, tmp_path / "big.pt"), rel=0.002)
    thin = thinned(masked)
    assert thin.channels == (8, 16, 32)
    assert save_weights(thin, tmp_path / "thin.pt") < 0.35 * save_weights(big, tmp_path / "big2.pt")
    assert count_weights(thin) < 0.3 * count_weights(big)


def test_the_thinned_network_answers_exactly_like_the_masked_one(trained_big):
    """Test whether cutting the masked filters out changes no answer: same logits (to float rounding) on the test
    pictures, for several shares of filters removed."""
    big, _, _, test, _ = trained_big
    for share in (0.25, 0.5, 0.75):
        masked = mask_filters(big, share).eval()
        with torch.no_grad():
            assert torch.allclose(masked(test), thinned(masked)(test), atol=1e-5), share


def test_fine_tuning_with_the_masks_on_keeps_the_zeros(trained_big):
    """Test whether the removed filters stay removed while the network is fine-tuned (masks re-applied at every
    step), and the kept filters do change."""
    big, inputs, labels, _, _ = trained_big
    masked = mask_filters(big, 0.5)
    before = [conv.weight.detach().clone() for conv, _ in masked.conv_blocks()]
    train_network(masked, inputs[:128], lambda logits, batch: torch.nn.functional.cross_entropy(logits, labels[batch]),
                  6, seed=1, learning_rate=0.003)
    for (conv, norm), old, kept in zip(masked.conv_blocks(), before, kept_filters(masked)):
        removed = torch.ones(conv.out_channels, dtype=torch.bool)
        removed[kept] = False
        assert torch.count_nonzero(conv.weight[removed]) == 0 and torch.count_nonzero(norm.weight[removed]) == 0
        assert not torch.equal(conv.weight[kept], old[kept])


# ------------------------------------------------------------------------------------------------------ int8
def test_int8_keeps_the_answers_stores_8_bits_and_stays_quiet(trained_big, tmp_path):
    """Test whether int8 conversion, saving, reading back and answering raise no warning at all (the deprecation
    warnings stay inside core/lessons/squeeze/int8.py), the weights are stored as 8-bit integers, and the int8
    network agrees with the float one on at least 98 % of the test pictures."""
    big, inputs, _, test, _ = trained_big
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        int8 = quantise(big, inputs[:256])
        save_int8(int8, tmp_path / "int8.pt")
        again = load_int8((tmp_path / "int8.pt").read_bytes())
        answers = run_int8(again, test).argmax(1)
    assert not caught, [str(warning.message)[:80] for warning in caught]
    assert int8.features[0].weight().dtype == torch.qint8
    with torch.no_grad():
        assert (answers == big(test).argmax(1)).float().mean() >= 0.98


def test_gradient_maps_cannot_run_on_int8_but_occlusion_can(trained_big, default_data):
    """Test the page's claim: Integrated Gradients fails on the int8 network, Occlusion gives a map."""
    big, inputs, _, _, _ = trained_big
    int8 = quantise(big, inputs[:64])
    pictures, labels = default_data.check.images[:2], default_data.check.labels[:2]
    with pytest.raises(RuntimeError):
        explain(int8, pictures, labels, "ig")
    assert explain(int8, pictures, labels, "occlusion").shape == (2, 32, 32)


# --------------------------------------------------------------------------------------------- distillation
def test_distillation_loss_against_hand_computed_values():
    """Test whether the loss is T² × KL(teacher ‖ student) on softened answers for unlabelled pictures, zero when
    the student already says what the teacher says, and mixes in cross-entropy half and half for labelled ones."""
    teacher = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    student = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    unlabelled = torch.tensor([-1, -1])
    temperature = 2.0
    p = torch.softmax(teacher / temperature, 1)
    q = torch.softmax(student / temperature, 1)
    kl = (p * (p / q).log()).sum(1) * temperature**2  # second picture: 0
    assert distillation_loss(student, teacher, unlabelled, temperature) == pytest.approx(float(kl.mean()), abs=1e-6)
    assert distillation_loss(teacher, teacher, unlabelled, temperature) == pytest.approx(0.0, abs=1e-6)
    labelled = torch.tensor([0, -1])
    ce = float(torch.nn.functional.cross_entropy(student[:1], torch.tensor([0])))
    expected = ((0.5 * ce + 0.5 * float(kl[0])) + float(kl[1])) / 2
    assert distillation_loss(student, teacher, labelled, temperature) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_few_labels_the_distilled_network_clearly_beats_the_one_trained_alone(seed):
    """Test the lesson's "why not train the small one?" across seeds: with 40 labelled pictures, the small network
    alone stays well below the one that also learned the big network's answers on 1,000 unlabelled pictures
    (measured: 0.79 / 0.83 / 0.83 alone vs 0.98 / 0.98 / 0.96 distilled, seeds 0–2). The big network here learns
    from 400 labelled pictures instead of 1,000, to keep the test short; the property holds as well."""
    settings = SqueezeSettings(num_train=400, seed=seed)
    data = make_data(settings)
    big, _ = train_big(settings, to_tensor(data.train.images), torch.as_tensor(data.train.labels))
    few = few_labels(settings, data, big)
    assert few.distilled_accuracy >= 0.9, few
    assert few.gain >= 0.08, few


def test_the_same_seed_gives_the_same_small_network_whatever_the_global_random_state():
    """Test whether training draws nothing from torch's global generator: the same seed, the same weights."""
    data = make_data(TINY)
    inputs, labels = to_tensor(data.train.images), torch.as_tensor(data.train.labels)
    torch.manual_seed(1)
    first, _ = train_small(TINY, inputs, labels, None, "x", 4)
    torch.manual_seed(999)
    second, _ = train_small(TINY, inputs, labels, None, "x", 4)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name


# ------------------------------------------------------------------------------------------------------- maps
def test_squeezing_the_big_network_keeps_its_explanation(default_result):
    """Test the maps step on the default run: the big network's maps agree with themselves, the int8 copy's
    maps rank the pixels almost exactly as the big network's (≥ 0.95) with the same grass evidence (±0.02), and
    every map has the pictures' size."""
    assert default_result.comparison("big").rank_correlation == pytest.approx(1.0)
    int8, big = default_result.comparison("int8"), default_result.comparison("big")
    assert int8.rank_correlation >= 0.95 and int8.survives
    assert abs(int8.grass_share - big.grass_share) <= 0.02
    for key in KINDS:
        assert default_result.maps[key].shape == (12, 32, 32)


def test_rank_correlation_against_known_values():
    """Test whether the rank correlation is 1 for any increasing transform, −1 reversed, uses average ranks for
    ties (the textbook example 0.8), and is 0 for a flat map."""
    values = np.array([[0.1, -2.0], [3.0, 0.5]])
    assert rank_correlation(values, np.exp(values)) == pytest.approx(1.0)
    assert rank_correlation(values, -values) == pytest.approx(-1.0)
    # ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): Pearson of the ranks = 0.9486832981
    assert rank_correlation(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(
        0.9486832981, abs=1e-9)
    assert rank_correlation(np.ones(4), values) == 0.0


# ---------------------------------------------------------------------------------------- run and contract
def test_progress_reports_go_forward_and_a_raising_callback_stops_the_run():
    """Test whether the run reports in order across its 8 stages and ends at 1, and a session that leaves (its
    callback raises) stops it at the first report."""
    data = make_data(TINY)
    reports: list[Progress] = []
    run_squeeze(TINY, data, reports.append)
    fractions = [report.fraction for report in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert {report.stage_index for report in reports} == set(range(8))

    class Stop(Exception):
        pass

    def stop(report: Progress) -> None:
        raise Stop

    with pytest.raises(Stop):
        run_squeeze(TINY, data, stop)


def test_the_phone_budget_moves_only_the_line(default_result):
    """Test whether another phone budget changes which networks fit, not the networks (same store key)."""
    assert "does not fit in the phone's 50 KB" in fits_words(default_result)
    roomy = with_budget(default_result, 200.0)
    assert "(102 KB) fits in the phone's 200 KB" in fits_words(roomy)
    assert roomy.models is default_result.models
    assert SqueezeSettings(phone_kb=20).training_key() == SqueezeSettings().training_key()


def test_the_lesson_reports_what_the_command_line_promises(default_result, capsys):
    """Test whether the report is JSON-ready, gives the settings back, one entry per network with its numbers,
    the takeaways without Markdown, and a summary with a line per network; and the snippet runs as printed."""
    result = LESSON.report(default_result)
    assert json.loads(json.dumps(result)) == result
    assert settings_from_dict(SqueezeSettings, result["settings"]) == SqueezeSettings()
    assert [row["network"] for row in result["networks"]] == list(KINDS)
    assert [row["fits_phone"] for row in result["networks"]] == [False, True, True, True, True]
    assert result["few_labels"]["labelled"] == 40 and not any("**" in line for line in result["takeaways"])
    assert len(result["takeaways"]) == len(takeaways(default_result))
    assert LESSON.summary(result).count("\n") >= 6
    exec(LESSON.snippet(TINY), {})
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[:5]] == list(KINDS)


def test_figures_have_one_marker_per_network_and_the_budget_line(default_result):
    """Test whether the chart has one marker per network at its measured size, and the bars two groups."""
    chart = size_accuracy(default_result.models, 50.0)
    assert [trace.x[0] for trace in chart.data] == [model.kb for model in default_result.models]
    assert any(shape.x0 == 50.0 for shape in chart.layout.shapes)
    bars = few_labels_bars(default_result.few, 0.9, 0.95, 1000)
    assert [len(trace.y) for trace in bars.data] == [2, 2]


@pytest.mark.parametrize("kwargs", [dict(num_train=4), dict(small_width=16), dict(prune_share=0.95),
                                    dict(nudges=0), dict(temperature=0.0), dict(few_labels=5000),
                                    dict(phone_kb=0), dict(grass_rate=2.0), dict(image_size=8)])
def test_nonsense_settings_are_refused(kwargs):
    """Test whether impossible settings raise a one-line ValueError when they are made."""
    with pytest.raises(ValueError) as raised:
        SqueezeSettings(**kwargs)
    assert "\n" not in str(raised.value)


def test_the_settings_are_hashable_and_round_trip_through_json():
    again = settings_from_dict(SqueezeSettings, json.loads(json.dumps(settings_json(TINY))))
    assert again == TINY and {TINY: 1}[again] == 1


def test_a_fresh_network_is_reproducible_and_batch_norm_recalibration_is_deterministic():
    """Test whether the same seed gives the same first weights (own generator)."""
    first, second = build_network((4, 8, 16), 5), build_network((4, 8, 16), 5)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    pictures = torch.rand(16, 3, 32, 32)
    recalibrate_batch_norm(first, pictures)
    recalibrate_batch_norm(second, pictures)
    assert torch.equal(first.features[1].running_mean, second.features[1].running_mean)
