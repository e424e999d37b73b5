"""The "why does it work?" lesson: inside the network, pictures sit in a space where similar things are close.

settings → pictures (the flagship's) → three networks: the untrained start, the one trained with grass behind
every bunny, the same after extra pattern-breaking pictures → each network's features before its last layer
(its "perceptual space") → a 2-D map (PCA live, t-SNE on request) and nearest neighbours → one number per
network: the share of surprise pictures whose nearest ordinary neighbours are their own animal.
Nothing here touches Streamlit.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from core.fit import Progress, ProgressCallback
from core.lesson import setting
from core.lessons.bunnies.experiment import BunniesData, BunniesSettings, make_data, train_model
from core.models import ModelConfig, SmallCNN, build_model
from core.scenes import COARSE_CLASSES, Scenes
from core.seeds import stream
from core.training import recalibrate_batch_norm, to_tensor

STAGES: tuple[str, ...] = ("untrained", "grass_only", "more_pictures")
STAGE_NAMES: dict[str, str] = {  # the page's choices (and their words in a link)
    "untrained": "Before training",
    "grass_only": "Grass behind every bunny",
    "more_pictures": "After more pictures",
}
STAGE_WHO: dict[str, str] = {  # the same networks, in a sentence
    "untrained": "the untrained network (random weights)",
    "grass_only": "the network trained with grass behind every bunny",
    "more_pictures": "the network shown more pictures",
}
PROJECTIONS: tuple[str, ...] = ("pca", "tsne")
PROJECTION_NAMES: dict[str, str] = {"pca": "PCA", "tsne": "t-SNE"}
TSNE_LIMIT = 500  # t-SNE only for this many points or fewer (one thread: ~1 s for 500 here)
NEIGHBOURS = 5


@dataclass(frozen=True)
class WhyItWorksSettings:
    """One run of the lesson. Hashable, so it keys the page's store; printable, so the page shows it as code."""

    grass_rate: float = setting(1.0, "how often the training bunnies stand on grass (elephants: the rest of the "
                                     "time); the map's ordinary pictures follow the same rule", flag="grass")
    num_train: int = setting(2000, "training pictures", flag="pictures")
    extra_pictures: int = setting(500, "pattern-breaking pictures (bunnies off grass, elephants on it) added for "
                                       "the third network", flag="extra")
    epochs: int = setting(5, "passes through the training pictures")
    width: int = setting(8, "filters in the network's first layer (doubling in each later one)")
    num_ordinary: int = setting(300, "ordinary pictures on the map (like the training ones)", flag="ordinary")
    num_surprise: int = setting(100, "surprise pictures on the map (bunnies off grass, elephants on it)",
                                flag="surprise")
    neighbours: int = setting(NEIGHBOURS, "nearest neighbours that vote on a picture's place")
    seed: int = setting(0, "seed of the pictures and the starting weights (the flagship's, for the same seed)")

    def __post_init__(self) -> None:
        if not 0.0 <= self.grass_rate <= 1.0:
            raise ValueError(f"grass_rate must be between 0 and 1, got {self.grass_rate}")
        if self.num_train < 2:
            raise ValueError(f"num_train must be at least 2, got {self.num_train}")
        if self.extra_pictures < 1:
            raise ValueError(f"extra_pictures must be at least 1 (the third network needs some), got "
                             f"{self.extra_pictures}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if not 1 <= self.width <= 128:
            raise ValueError(f"width must be between 1 and 128, got {self.width}")
        if self.num_ordinary < 2 or self.num_surprise < 2:
            raise ValueError("the map needs at least 2 ordinary and 2 surprise pictures")
        if not 1 <= self.neighbours <= self.num_ordinary:
            raise ValueError(f"neighbours must be between 1 and num_ordinary ({self.num_ordinary}), got "
                             f"{self.neighbours}")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")

    def bunnies_settings(self, extra: int = 0) -> BunniesSettings:
        """The flagship's settings for the same pictures and network (same seed: the very network of lesson 1)."""
        return BunniesSettings(grass_rate=self.grass_rate, num_train=self.num_train, extra_pictures=extra,
                               epochs=self.epochs, width=self.width, seed=self.seed,
                               num_test=max(self.num_ordinary, self.num_surprise), num_check=2, methods=("ig",))

    def data_key(self) -> tuple:
        """What the pictures depend on (how long it trains does not change them)."""
        return ("why_it_works", self.grass_rate, self.num_train, self.extra_pictures, self.num_ordinary,
                self.num_surprise, self.seed)

    @property
    def map_size(self) -> int:
        return self.num_ordinary + self.num_surprise


@dataclass(frozen=True)
class MapPictures:
    """The pictures on the map: ordinary ones first, then surprise ones; (N, H, W, 3) uint8 and their facts."""

    images: np.ndarray
    labels: np.ndarray  # (N,) 0 bunny, 1 elephant
    grounds: tuple[str, ...]
    surprise: np.ndarray  # (N,) bool

    def __len__(self) -> int:
        return len(self.labels)

    def animal(self, index: int) -> str:
        return COARSE_CLASSES[int(self.labels[index])]

    def describe(self, index: int) -> str:
        """'surprise picture 3: a bunny on sand'."""
        kind = "surprise picture" if self.surprise[index] else "picture"
        number = index - int(np.count_nonzero(~self.surprise)) if self.surprise[index] else index
        return f"{kind} {number + 1}: {article(self.animal(index))} on {self.grounds[index]}"


def article(animal: str) -> str:
    return f"an {animal}" if animal[0] in "aeiou" else f"a {animal}"


@dataclass(frozen=True)
class LessonData:
    """The training pictures of both trainings (the grass-only set is the first `num_train` of `after`) and
    the pictures on the map."""

    before: BunniesData
    after: BunniesData
    map: MapPictures


def _first(scenes: Scenes, count: int) -> Scenes:
    return Scenes(scenes.images[:count], scenes.masks[:count], scenes.labels[:count], scenes.specs[:count],
                  scenes.classes)


def make_lesson_data(settings: WhyItWorksSettings, on_progress: ProgressCallback | None = None) -> LessonData:
    """The flagship's pictures with the extra ones, drawn once; deterministic for given settings."""
    after = make_data(settings.bunnies_settings(settings.extra_pictures), on_progress)
    before = replace(after, train=_first(after.train, settings.num_train))
    ordinary, surprise = _first(after.test, settings.num_ordinary), _first(after.surprise, settings.num_surprise)
    pictures = MapPictures(
        images=np.concatenate([ordinary.images, surprise.images]),
        labels=np.concatenate([ordinary.labels, surprise.labels]),
        grounds=tuple(spec.ground for spec in ordinary.specs + surprise.specs),
        surprise=np.arange(settings.map_size) >= settings.num_ordinary,
    )
    return LessonData(before, after, pictures)


# ------------------------------------------------------------------------------------- the perceptual space
@torch.no_grad()
def features(model: SmallCNN, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """What the network's last layer sees (N, C) float32: the averaged features of its last convolution, the
    numbers the final linear layer turns into "bunny" or "elephant". The model must be in eval mode."""
    if model.training:
        raise ValueError("put the model in eval mode before reading its features (model.eval())")
    chunks = []
    for start in range(0, len(images), batch_size):
        inputs = to_tensor(images[start : start + batch_size])  # (B, 3, H, W) in [0, 1]
        chunks.append(model.pool(model.features(inputs - 0.5)).flatten(1))  # (B, C), as in SmallCNN.forward
    return torch.cat(chunks).numpy() if chunks else np.zeros((0, 0), np.float32)


def untrained_model(settings: WhyItWorksSettings, data: LessonData) -> SmallCNN:
    """The network training starts from (same seed, same weights), its batch-norm averages measured on the
    training pictures (no learning: only the scale of each feature is set, as after training)."""
    model = build_model(ModelConfig(num_classes=len(COARSE_CLASSES), width=settings.width),
                        stream(settings.seed, "weights"))
    recalibrate_batch_norm(model, to_tensor(data.before.train.images), 64)
    return model.eval()


def project(points: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """The points (N, C) laid out in 2-D (N, 2): PCA (the two directions along which the pictures differ most;
    milliseconds), or t-SNE (keeps neighbours together; at most TSNE_LIMIT points, one thread: about a second).
    Each axis is scaled to [-1, 1]."""
    from sklearn.decomposition import PCA

    if method not in PROJECTIONS:
        raise ValueError(f"unknown projection {method!r}; choose from {', '.join(PROJECTIONS)}")
    if points.ndim != 2 or len(points) < 3:
        raise ValueError(f"need at least 3 points shaped (N, C), got {points.shape}")
    centred = points - points.mean(0)
    if method == "pca":
        flat = PCA(n_components=2, random_state=seed).fit_transform(centred) if centred.shape[1] >= 2 else \
            np.column_stack([centred[:, 0], np.zeros(len(centred))])
    else:
        if len(points) > TSNE_LIMIT:
            raise ValueError(f"t-SNE is offered for at most {TSNE_LIMIT} pictures, got {len(points)}: use PCA")
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits

        # One thread: two OpenMP threads on a busy 2-core box made t-SNE 40x slower (PITFALLS.md).
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            flat = TSNE(n_components=2, perplexity=min(30.0, (len(points) - 1) / 3), init="pca", max_iter=500,
                        random_state=seed).fit_transform(centred)
    spread = np.abs(flat).max(0)
    return (flat / np.where(spread > 0, spread, 1.0)).astype(np.float32)


def nearest(points: np.ndarray, query: int, among: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` points of `among` (indices) closest to point `query` in the full space (not the
    2-D map), closest first, the query itself left out."""
    candidates = among[among != query]
    distances = np.linalg.norm(points[candidates] - points[query], axis=1)
    return candidates[np.argsort(distances, kind="stable")[:count]]


def sorted_by_animal(points: np.ndarray, pictures: MapPictures, count: int) -> np.ndarray:
    """For each surprise picture: do most of its `count` nearest ordinary pictures show its own animal? (bool,
    one per surprise picture). The ordinary pictures pair each animal with its usual ground, so a network whose
    space is sorted by ground puts a bunny on sand among the elephants."""
    ordinary = np.flatnonzero(~pictures.surprise)
    votes = [np.mean(pictures.labels[nearest(points, query, ordinary, count)] == pictures.labels[query]) > 0.5
             for query in np.flatnonzero(pictures.surprise)]
    return np.array(votes, dtype=bool)


@dataclass(frozen=True)
class Space:
    """One network's perceptual space over the map's pictures."""

    stage: str
    points: np.ndarray  # (N, C) features before the last layer
    predictions: np.ndarray  # (N,) the network's answer (0 bunny, 1 elephant)
    surprise_sorted: np.ndarray  # (S,) bool: surprise picture among its own animal (see `sorted_by_animal`)
    accuracy_ordinary: float
    accuracy_surprise: float

    @property
    def animal_share(self) -> float:
        """Share of surprise pictures whose nearest ordinary neighbours are their own animal."""
        return float(self.surprise_sorted.mean())


def space(stage: str, model: SmallCNN, pictures: MapPictures, neighbours: int) -> Space:
    """The network's features for every picture on the map, its answers, and the surprise pictures' places."""
    points = features(model, pictures.images)
    with torch.no_grad():
        predictions = model.classifier(torch.from_numpy(points)).argmax(1).numpy()
    right = predictions == pictures.labels
    return Space(stage, points, predictions, sorted_by_animal(points, pictures, neighbours),
                 float(right[~pictures.surprise].mean()), float(right[pictures.surprise].mean()))


# ------------------------------------------------------------------------------------------ the whole lesson
@dataclass(frozen=True)
class WhyItWorksResult:
    settings: WhyItWorksSettings
    data: LessonData
    spaces: dict[str, Space]  # by stage, in STAGES order
    seconds: float  # the trainings and the features

    def space(self, stage: str) -> Space:
        if stage not in self.spaces:
            raise ValueError(f"unknown stage {stage!r}; choose from {', '.join(self.spaces)}")
        return self.spaces[stage]


def _in_stage(on_progress: ProgressCallback | None, index: int, stages: int, name: str) -> ProgressCallback | None:
    if on_progress is None:
        return None
    return lambda progress: on_progress(replace(progress, stage=f"{name}: {progress.stage}", stage_index=index,
                                                stages=stages))


def spaces(settings: WhyItWorksSettings, data: LessonData, on_progress: ProgressCallback | None = None) -> WhyItWorksResult:
    """Train the grass-only network and the one with more pictures (the flagship's, for the same settings), and
    read the three spaces. `on_progress` hears both trainings (and may raise to stop)."""
    started = time.perf_counter()
    import sklearn.decomposition  # noqa: F401 - ~1.3 s the first time in a process: paid here, behind the bar,
    # so that the first map after training answers in milliseconds
    before = train_model(settings.bunnies_settings(), data.before,
                         _in_stage(on_progress, 0, 2, "Grass behind every bunny")).model()
    after = train_model(settings.bunnies_settings(settings.extra_pictures), data.after,
                        _in_stage(on_progress, 1, 2, f"With {settings.extra_pictures:,} more pictures")).model()
    models = {"untrained": untrained_model(settings, data), "grass_only": before, "more_pictures": after}
    found = {stage: space(stage, models[stage], data.map, settings.neighbours) for stage in STAGES}
    return WhyItWorksResult(settings, data, found, time.perf_counter() - started)


def run(settings: WhyItWorksSettings, on_progress: ProgressCallback | None = None) -> WhyItWorksResult:
    """The whole lesson in one call: draw the pictures, train both networks, read the three spaces."""
    data = make_lesson_data(settings, None if on_progress is None else
                            lambda progress: on_progress(replace(progress, stage="Drawing the pictures")))
    return spaces(settings, data, on_progress)


def takeaways(result: WhyItWorksResult) -> list[str]:
    """A few plain sentences (Markdown, **bold** leads) about these very spaces."""
    share = {stage: result.space(stage).animal_share for stage in STAGES}
    k = result.settings.neighbours
    before, grass_only, after = share["untrained"], share["grass_only"], share["more_pictures"]
    lines = [
        f"**Before training**, {before:.0%} of the surprise pictures sit among their own animal"
        + (": the random network groups pictures by how they look overall — mostly colours, and the ground is "
           "most of the picture." if before < 0.5 else "."),
        f"**Trained with grass behind every bunny**: {grass_only:.0%}."
        + (" A bunny on sand lands among the elephants (they stood on sand), an elephant on grass among the "
           "bunnies — this network's space is sorted by the ground." if grass_only < 0.5 else
           " Most surprise pictures already find their own animal here."),
        f"**After {result.settings.extra_pictures:,} more pictures**: {after:.0%}."
        + (" The space has reorganised by animal, so the surprise pictures find their own kind."
           if after >= 0.5 and after > grass_only else
           " Not yet sorted by animal for most of them: try more extra pictures."),
        f"(“Among their own animal”: most of its {k} nearest ordinary pictures, measured in the network's whole "
        "space, not on the flat map.)",
    ]
    return lines
