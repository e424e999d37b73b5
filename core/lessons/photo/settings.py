"""What one screen of the photo lesson shows: the cache key, the link, and the flags of `netlens photo`."""

from __future__ import annotations

from dataclasses import dataclass

from core.explain import METHODS
from core.lesson import setting
from core.lessons.photo.experiment import DEFAULT_METHODS, NETWORKS, SAMPLES, is_fingerprint

TOP_RANKS = 5  # the page offers the five likeliest answers to explain


@dataclass(frozen=True)
class PhotoSettings:
    """Which picture, which network, which class to explain with which methods, and how the maps are drawn."""

    picture: str = setting("coffee", f"sample photo: {', '.join(SAMPLES)} (on the page: or an uploaded photo's "
                                      "fingerprint)", flag="sample")
    methods: tuple[str, ...] = setting(DEFAULT_METHODS, f"comma-separated attribution methods: {', '.join(METHODS)}")
    target: str = setting("top1", "class to explain: top1..top5 or a class number")
    opacity: float = setting(0.75, "how strongly the maps cover the photo, 0..1")
    shared_scale: bool = setting(False, "one colour scale for all maps, so a weak map looks weak")
    network: str = setting("imagenet", f"which network looks at it: {', '.join(NETWORKS)} (bunny-world: lesson 1's "
                                       "network, trained with its default settings)")
    check: str = setting("", "also run the two trust checks (deletion, randomisation) on this method's map, e.g. "
                             "gradcam (ImageNet network only)")
    seed: int = setting(0, "seed of the methods that draw random numbers (SmoothGrad, GradientShap) and of the checks")

    def __post_init__(self) -> None:
        if self.picture not in SAMPLES and not is_fingerprint(self.picture):
            raise ValueError(f"unknown sample photo {self.picture!r}; choose one of {', '.join(SAMPLES)} "
                             "(or an uploaded photo's 16-digit fingerprint)")
        if not isinstance(self.methods, tuple) or not self.methods:
            raise ValueError(f"methods must be at least one of {', '.join(METHODS)}")
        unknown = [key for key in self.methods if key not in METHODS]
        if unknown:
            raise ValueError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHODS)}")
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"each method once, please: got {', '.join(self.methods)}")
        text = self.target.strip().lower()
        rank_ok = text.startswith("top") and text[3:].isdigit() and 1 <= int(text[3:]) <= TOP_RANKS
        if not rank_ok and not (text.isdigit() and 0 <= int(text) < 1000):
            raise ValueError(f"target must be top1..top{TOP_RANKS} or a class number 0..999, got {self.target!r}")
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"opacity must be between 0 and 1, got {self.opacity}")
        if self.network not in NETWORKS:
            raise ValueError(f"unknown network {self.network!r}; choose {' or '.join(NETWORKS)}")
        if self.check and self.check not in self.methods:
            raise ValueError(f"check must be one of the methods shown ({', '.join(self.methods)}), got {self.check!r}")
        if self.check and self.network != "imagenet":
            raise ValueError("the trust checks run on the ImageNet network only")
        if self.seed < 0:
            raise ValueError(f"seed must be zero or more, got {self.seed}")
