"""Shared fixtures: one small network trained once per test session, seeded."""

from __future__ import annotations

import pytest

from core.lessons.bunnies.experiment import BunniesData, BunniesSettings, make_data, train_model
from core.runtime import configure_torch

configure_torch(2)
SMALL = BunniesSettings(grass_rate=0.5, num_train=600, epochs=3, num_test=100, num_check=16, seed=11)


@pytest.fixture(scope="session")
def small_data() -> BunniesData:
    return make_data(SMALL)


@pytest.fixture(scope="session")
def small_model(small_data):  # type: ignore[no-untyped-def]
    return train_model(SMALL, small_data).model()
