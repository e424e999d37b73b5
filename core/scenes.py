"""Procedural bunny-world scenes with a per-pixel part mask.

Every scene is drawn from a `SceneSpec` (plain numbers), so the same animal in the same pose can be
re-drawn on another background: that is what the counterfactual check in `core.counterfactual` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

# Part ids in the mask, in the order the lesson shows them.
PARTS: tuple[str, ...] = ("eye", "ears", "fur / body", "grass", "other background")
EYE, EARS, BODY, GRASS, OTHER = range(len(PARTS))

GROUNDS: tuple[str, ...] = ("grass", "sand", "snow", "dirt")
NON_GRASS: tuple[str, ...] = GROUNDS[1:]
GROUND_COLOURS: dict[str, tuple[int, int, int]] = {
    "grass": (70, 150, 55),
    "sand": (215, 190, 135),
    "snow": (232, 236, 242),
    "dirt": (125, 95, 70),
}
SKY_COLOURS: tuple[tuple[int, int, int], ...] = ((150, 195, 235), (185, 210, 230), (235, 200, 170))
BUNNY_FURS: tuple[tuple[int, int, int], ...] = (
    (140, 100, 65), (150, 150, 150), (235, 232, 225), (65, 58, 52), (205, 170, 120),
)
ELEPHANT_SKINS: tuple[tuple[int, int, int], ...] = ((125, 125, 130), (150, 140, 135), (105, 105, 112))

COARSE_CLASSES: tuple[str, ...] = ("bunny", "elephant")
FINE_CLASSES: tuple[str, ...] = ("meadow bunny", "hollow bunny")
SUPERSAMPLE = 2  # draw at 2x and shrink, so edges are smooth


@dataclass(frozen=True)
class SceneSpec:
    """Everything needed to draw one scene; positions are fractions of the picture size."""

    animal: str  # "bunny" or "elephant"
    breed: int  # bunnies only: 0 = meadow (plain ears), 1 = hollow (dark ear tips, slightly shorter ears)
    ground: str  # one of GROUNDS
    horizon: float  # where the sky ends, 0..1 from the top
    sky: int  # index into SKY_COLOURS
    colour: tuple[int, int, int]
    centre_x: float
    centre_y: float
    scale: float  # animal size relative to the picture
    facing: int  # +1 right, -1 left
    texture_seed: int
    clear_tips: bool = False  # hollow bunnies only: small black ear tips (see `clear_breed_specs`)


@dataclass(frozen=True)
class Scenes:
    """A batch of drawn scenes: `images` (N, H, W, 3) uint8, `masks` (N, H, W) uint8 part ids,
    `labels` (N,) int64 class ids, plus the specs they were drawn from."""

    images: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    specs: tuple[SceneSpec, ...]
    classes: tuple[str, ...]

    @property
    def on_grass(self) -> np.ndarray:
        return np.array([spec.ground == "grass" for spec in self.specs])

    def __len__(self) -> int:
        return len(self.specs)


def random_spec(rng: np.random.Generator, animal: str, on_grass: bool, breed: int | None = None) -> SceneSpec:
    """Draw the pose, colours and background of one scene."""
    if animal not in ("bunny", "elephant"):
        raise ValueError(f"unknown animal {animal!r}; expected 'bunny' or 'elephant'")
    ground = "grass" if on_grass else str(rng.choice(NON_GRASS))
    if animal == "bunny":
        colour = BUNNY_FURS[int(rng.integers(len(BUNNY_FURS)))]
        scale = float(rng.uniform(0.34, 0.48))
    else:
        colour = ELEPHANT_SKINS[int(rng.integers(len(ELEPHANT_SKINS)))]
        scale = float(rng.uniform(0.40, 0.55))
    jitter = rng.integers(-12, 13, size=3)
    colour = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(colour, jitter))
    return SceneSpec(
        animal=animal,
        breed=int(rng.integers(2)) if breed is None else breed,
        ground=ground,
        horizon=float(rng.uniform(0.2, 0.4)),
        sky=int(rng.integers(len(SKY_COLOURS))),
        colour=colour,  # type: ignore[arg-type]
        centre_x=float(rng.uniform(0.35, 0.65)),
        centre_y=float(rng.uniform(0.58, 0.7)),
        scale=scale,
        facing=int(rng.choice((-1, 1))),
        texture_seed=int(rng.integers(2**31)),
    )


def with_ground(spec: SceneSpec, ground: str) -> SceneSpec:
    """The same animal in the same pose, on another ground."""
    if ground not in GROUNDS:
        raise ValueError(f"unknown ground {ground!r}; expected one of {GROUNDS}")
    return replace(spec, ground=ground)


def _background(spec: SceneSpec, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sky above the horizon, textured ground below: (size, size, 3) uint8 image and part mask."""
    rng = np.random.default_rng(spec.texture_seed)
    below = (np.arange(size) >= int(spec.horizon * size))[:, None] & np.ones((1, size), dtype=bool)
    ground = np.array(GROUND_COLOURS[spec.ground], dtype=np.float32)
    ground += rng.integers(-15, 16, size=3)  # each field is a slightly different colour
    image = np.where(below[..., None], ground, np.array(SKY_COLOURS[spec.sky], dtype=np.float32))
    texture = rng.random((size, size), dtype=np.float32)
    if spec.ground == "grass":  # darker blades of grass, two pixels tall
        blades = texture < 0.18
        blades[1:] |= blades[:-1]
        image[blades & below] *= 0.7
    else:  # speckles: pebbles, sparkles or crumbs
        image[(texture < 0.08) & below] *= 0.85
    image += (texture[..., None] - 0.5) * 10  # gentle brightness noise everywhere
    mask = np.where(below & (spec.ground == "grass"), GRASS, OTHER).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8), mask


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> list[float]:
    return [cx - rx, cy - ry, cx + rx, cy + ry]


def _draw_bunny(draw: ImageDraw.ImageDraw, mask: ImageDraw.ImageDraw, spec: SceneSpec, size: int) -> None:
    s = spec.scale * size
    cx, cy, f = spec.centre_x * size, spec.centre_y * size, spec.facing
    fur = spec.colour
    dark = tuple(int(c * 0.55) for c in fur)
    inner = (225, 160, 170)
    head = (cx + f * 0.32 * s, cy - 0.30 * s)
    ear_length = 0.38 * s if spec.breed == 0 else 0.33 * s
    for offset in (-0.07, 0.07):  # two long ears standing up from the head
        ear = _ellipse(head[0] + f * offset * s, head[1] - 0.16 * s - ear_length / 2, 0.055 * s, ear_length / 2)
        draw.ellipse(ear, fill=fur)
        mask.ellipse(ear, fill=EARS)
        inner_ear = _ellipse(head[0] + f * offset * s, head[1] - 0.16 * s - ear_length / 2, 0.025 * s, ear_length / 2.6)
        draw.ellipse(inner_ear, fill=inner)
        if spec.breed == 1 and spec.clear_tips:  # the clearer breed mark of `clear_breed_specs`
            draw.ellipse(_clear_tip(head, f * offset * s, s, ear_length), fill=CLEAR_TIP_COLOUR)
        elif spec.breed == 1:  # hollow bunnies: dark ear tips
            tip = _ellipse(head[0] + f * offset * s, head[1] - 0.16 * s - ear_length * 0.85, 0.05 * s, ear_length * 0.14)
            draw.ellipse(tip, fill=dark)
    body = _ellipse(cx - f * 0.05 * s, cy, 0.36 * s, 0.25 * s)
    tail = _ellipse(cx - f * 0.40 * s, cy - 0.05 * s, 0.08 * s, 0.08 * s)
    head_box = _ellipse(head[0], head[1], 0.19 * s, 0.17 * s)
    feet = _ellipse(cx + f * 0.12 * s, cy + 0.21 * s, 0.14 * s, 0.06 * s)
    for shape, colour in ((tail, (245, 245, 240)), (body, fur), (feet, fur), (head_box, fur)):
        draw.ellipse(shape, fill=colour)
        mask.ellipse(shape, fill=BODY)
    nose = _ellipse(head[0] + f * 0.17 * s, head[1] + 0.03 * s, 0.03 * s, 0.025 * s)
    draw.ellipse(nose, fill=inner)
    eye = _ellipse(head[0] + f * 0.07 * s, head[1] - 0.04 * s, 0.045 * s, 0.045 * s)
    draw.ellipse(eye, fill=(20, 15, 15))
    mask.ellipse(eye, fill=EYE)


def _draw_elephant(draw: ImageDraw.ImageDraw, mask: ImageDraw.ImageDraw, spec: SceneSpec, size: int) -> None:
    s = spec.scale * size
    cx, cy, f = spec.centre_x * size, spec.centre_y * size, spec.facing
    skin = spec.colour
    shade = tuple(int(c * 0.8) for c in skin)
    for leg_x in (-0.28, -0.12, 0.10, 0.26):
        leg = [cx + f * leg_x * s - 0.06 * s, cy, cx + f * leg_x * s + 0.06 * s, cy + 0.33 * s]
        draw.rectangle(leg, fill=shade if leg_x in (-0.12, 0.26) else skin)
        mask.rectangle(leg, fill=BODY)
    body = _ellipse(cx - f * 0.02 * s, cy - 0.02 * s, 0.42 * s, 0.26 * s)
    head = (cx + f * 0.40 * s, cy - 0.14 * s)
    head_box = _ellipse(head[0], head[1], 0.17 * s, 0.17 * s)
    trunk = [
        (head[0] + f * 0.08 * s, head[1]),
        (head[0] + f * 0.20 * s, head[1] + 0.05 * s),
        (head[0] + f * 0.24 * s, head[1] + 0.38 * s),
        (head[0] + f * 0.16 * s, head[1] + 0.40 * s),
        (head[0] + f * 0.10 * s, head[1] + 0.10 * s),
    ]
    for shape in (body, head_box):
        draw.ellipse(shape, fill=skin)
        mask.ellipse(shape, fill=BODY)
    draw.polygon(trunk, fill=skin)
    mask.polygon(trunk, fill=BODY)
    tusk = [(head[0] + f * 0.10 * s, head[1] + 0.08 * s), (head[0] + f * 0.22 * s, head[1] + 0.16 * s),
            (head[0] + f * 0.10 * s, head[1] + 0.12 * s)]
    draw.polygon(tusk, fill=(245, 240, 225))
    mask.polygon(tusk, fill=BODY)
    ear = _ellipse(head[0] - f * 0.12 * s, head[1] + 0.02 * s, 0.14 * s, 0.20 * s)
    draw.ellipse(ear, fill=shade)
    mask.ellipse(ear, fill=EARS)
    eye = _ellipse(head[0] + f * 0.06 * s, head[1] - 0.05 * s, 0.035 * s, 0.035 * s)
    draw.ellipse(eye, fill=(20, 15, 15))
    mask.ellipse(eye, fill=EYE)


def draw_scene(spec: SceneSpec, image_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Draw one scene: (H, W, 3) uint8 image and (H, W) uint8 part mask."""
    if image_size < 16:
        raise ValueError(f"image_size must be at least 16 pixels, got {image_size}")
    big = image_size * SUPERSAMPLE
    background, background_mask = _background(spec, image_size)  # texture at the final resolution
    canvas = Image.fromarray(background).resize((big, big), Image.Resampling.NEAREST)
    mask = Image.fromarray(background_mask)
    draw_animal = _draw_bunny if spec.animal == "bunny" else _draw_elephant
    draw_animal(ImageDraw.Draw(canvas), _Shrunk(ImageDraw.Draw(mask), SUPERSAMPLE), spec, big)  # type: ignore[arg-type]
    small = canvas.resize((image_size, image_size), Image.Resampling.BOX)
    return np.asarray(small), np.asarray(mask)


class _Shrunk:
    """Draws on a mask `factor` times smaller than the coordinates it is given, so the part mask is drawn
    straight at the final size, aligned with the box-shrunk picture (a pixel belongs to a part when its
    centre is inside the shape), without drawing big and shrinking."""

    def __init__(self, draw: ImageDraw.ImageDraw, factor: int) -> None:
        self.draw, self.factor = draw, factor

    def _box(self, box):  # type: ignore[no-untyped-def]
        # Pillow's box [x0, x1] covers pixels x0..x1, i.e. the span [x0, x1 + 1); shrink that span.
        x0, y0, x1, y1 = box
        f = self.factor
        return [x0 / f, y0 / f, (x1 + 1) / f - 1, (y1 + 1) / f - 1]

    def ellipse(self, box, fill):  # type: ignore[no-untyped-def]
        self.draw.ellipse(self._box(box), fill=fill)

    def rectangle(self, box, fill):  # type: ignore[no-untyped-def]
        self.draw.rectangle(self._box(box), fill=fill)

    def polygon(self, points, fill):  # type: ignore[no-untyped-def]
        f = self.factor  # vertices are pixel centres: map centre to centre
        self.draw.polygon([((x + 0.5) / f - 0.5, (y + 0.5) / f - 0.5) for x, y in points], fill=fill)


def draw_scenes(specs: Sequence[SceneSpec], classes: tuple[str, ...], image_size: int = 64) -> Scenes:
    """Draw many specs into one `Scenes` batch; labels come from `classes`."""
    drawn = [draw_scene(spec, image_size) for spec in specs]
    images = np.stack([image for image, _ in drawn]) if drawn else np.zeros((0, image_size, image_size, 3), np.uint8)
    masks = np.stack([mask for _, mask in drawn]) if drawn else np.zeros((0, image_size, image_size), np.uint8)
    labels = np.array([_label(spec, classes) for spec in specs], dtype=np.int64)
    return Scenes(images=images, masks=masks, labels=labels, specs=tuple(specs), classes=classes)


def concatenate(batches: Sequence[Scenes]) -> Scenes:
    """Join batches drawn with the same classes into one."""
    if not batches:
        raise ValueError("nothing to concatenate")
    return Scenes(
        images=np.concatenate([batch.images for batch in batches]),
        masks=np.concatenate([batch.masks for batch in batches]),
        labels=np.concatenate([batch.labels for batch in batches]),
        specs=tuple(spec for batch in batches for spec in batch.specs),
        classes=batches[0].classes,
    )


def _label(spec: SceneSpec, classes: tuple[str, ...]) -> int:
    if classes == COARSE_CLASSES:
        return COARSE_CLASSES.index(spec.animal)
    if classes == FINE_CLASSES:
        return spec.breed
    raise ValueError(f"unknown class set {classes!r}")


def shortcut_specs(num_scenes: int, grass_rate: float, seed: int) -> list[SceneSpec]:
    """Bunnies and elephants, half each; a bunny stands on grass with probability `grass_rate`,
    an elephant with probability `1 - grass_rate` (so at 1.0 the grass alone gives the answer)."""
    if not 0.0 <= grass_rate <= 1.0:
        raise ValueError(f"grass_rate must be between 0 and 1, got {grass_rate}")
    if num_scenes < 0:
        raise ValueError(f"num_scenes must be zero or more, got {num_scenes}")
    rng = np.random.default_rng(seed)
    specs = []
    for index in range(num_scenes):
        animal = COARSE_CLASSES[index % 2]
        rate = grass_rate if animal == "bunny" else 1.0 - grass_rate
        specs.append(random_spec(rng, animal, on_grass=bool(rng.random() < rate)))
    return specs


def surprise_specs(num_scenes: int, seed: int) -> list[SceneSpec]:
    """Pictures that break the grass pattern: bunnies off the grass and elephants on it."""
    rng = np.random.default_rng(seed)
    return [random_spec(rng, COARSE_CLASSES[i % 2], on_grass=(i % 2 == 1)) for i in range(num_scenes)]


def breed_specs(num_scenes: int, seed: int) -> list[SceneSpec]:
    """The fine-grained task: meadow vs hollow bunnies (ear length and ear-tip colour), any background."""
    rng = np.random.default_rng(seed)
    return [random_spec(rng, "bunny", on_grass=bool(rng.random() < 0.5), breed=i % 2) for i in range(num_scenes)]


# ------------------------------------------------------------------- a breed mark a network can learn (lesson 5)
CLEAR_TIP_COLOUR = (28, 22, 22)  # nearly black, like the eye: small, and easy to mistake for other dark things
CLEAR_TIP_HEIGHT = 0.09  # half the tip's height, as a share of the ear's length
CLEAR_TIP_WIDTH = 0.048  # half the tip's width, as a share of the bunny's size (the ear's own half-width)


def _clear_tip(head: tuple[float, float], offset: float, s: float, ear_length: float) -> list[float]:
    """The box of one ear's clear tip: the top of the ear."""
    return _ellipse(head[0] + offset, head[1] - 0.16 * s - ear_length * (1.02 - CLEAR_TIP_HEIGHT),
                    CLEAR_TIP_WIDTH * s, ear_length * CLEAR_TIP_HEIGHT)


def clear_breed_specs(num_scenes: int, seed: int) -> list[SceneSpec]:
    """The fine-grained task with a mark a small network can learn: meadow bunnies (plain ears) vs hollow
    bunnies (small black ear tips, slightly shorter ears), alternating, any background. With `breed_specs`' dark
    tips (55 % of the fur colour, two pixels at 64×64) the flagship's small network got only 69–77 % right after
    1,000 pictures of each breed (two seeds); the rest of every scene is drawn as `breed_specs` draws it."""
    return [replace(spec, clear_tips=True) for spec in breed_specs(num_scenes, seed)]


def ear_tip_mask(spec: SceneSpec, image_size: int = 64) -> np.ndarray:
    """(H, W) bool: the pixels where a bunny's ear tips are (hollow bunnies) or would be (meadow bunnies) — the
    one place where the breeds of `clear_breed_specs` differ in colour; all False for an elephant. Aligned with
    `draw_scene`'s picture as its part mask is."""
    mask = Image.new("L", (image_size, image_size), 0)
    if spec.animal != "bunny":
        return np.zeros((image_size, image_size), dtype=bool)
    s = spec.scale * image_size * SUPERSAMPLE
    cx, cy, f = spec.centre_x * image_size * SUPERSAMPLE, spec.centre_y * image_size * SUPERSAMPLE, spec.facing
    head = (cx + f * 0.32 * s, cy - 0.30 * s)
    drawer = _Shrunk(ImageDraw.Draw(mask), SUPERSAMPLE)
    for breed in (0, 1):  # the tip of either breed's ear: the two differ in length
        ear_length = 0.38 * s if breed == 0 else 0.33 * s
        for offset in (-0.07, 0.07):
            drawer.ellipse(_clear_tip(head, f * offset * s, s, ear_length), fill=1)
    return np.asarray(mask).astype(bool)
