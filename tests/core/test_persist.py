"""Tests for core.persist: exact round trips without pickle, deterministic bytes, refusal of foreign classes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import core.persist
from core.fit import Progress
from core.lessons.house_prices.experiment import HousePricesSettings
from core.lessons.house_prices.experiment import run as run_house_prices
from core.lessons.squeeze.networks import SqueezeCNN
from core.models import ModelConfig, SmallCNN, build_model
from core.persist import MAGIC, Corrupt, Unsupported, decode, digest, encode
from core.training import TrainConfig, TrainResult, to_tensor, train

ROOT = Path(__file__).resolve().parents[2]


def round_trip(value: object) -> object:
    return decode(encode(value))


def rewrite_structure(data: bytes, old: str, new: str) -> bytes:
    """`data` with `old` replaced by `new` inside its JSON part (the length field adjusted): a tampered entry."""
    start = len(MAGIC) + 8
    length = int.from_bytes(data[len(MAGIC) : start], "little")
    structure = data[start : start + length].decode().replace(old, new)
    assert structure != data[start : start + length].decode(), f"{old!r} is not in the structure"
    return MAGIC + len(structure).to_bytes(8, "little") + structure.encode() + data[start + length :]


# ------------------------------------------------------------------------------------------- plain values
@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**100, 1.5, -0.0, 1e-310, 1e308, "", "grass ✓ \U0001f407", [], (), {},
    [1, [2, (3, "x")]], (None,), {"a": 1, "b": [2.5]}, {3: "c", 1: "a", 2: "b"}, {(1, "x"): 2, 0.5: None},
    {frozenset({1, 2}): "set key"}, {"b", "a", "c"}, frozenset({(1, 2), (0, 3)}), OrderedDict(b=1, a=2),
])
def test_plain_values_round_trip_with_type_and_order(value: object) -> None:
    """Test whether containers and scalars come back equal, of the same type, dict order kept."""
    back = round_trip(value)
    assert back == value and type(back) is type(value)
    if isinstance(value, dict):
        assert list(back) == list(value)  # type: ignore[call-overload]
        assert [type(k) for k in back] == [type(k) for k in value]  # type: ignore[union-attr]


def test_special_floats_and_signed_zero() -> None:
    """Test whether nan, ±inf and -0.0 survive (JSON itself has no words for the first three)."""
    nan, inf, negative_inf, negative_zero = round_trip([math.nan, math.inf, -math.inf, -0.0])  # type: ignore[misc]
    assert math.isnan(nan) and inf == math.inf and negative_inf == -math.inf
    assert negative_zero == 0 and math.copysign(1, negative_zero) == -1


def test_bool_and_int_and_float_stay_apart() -> None:
    """Test whether True, 1 and 1.0 (equal in Python) come back as their own types."""
    assert [type(x) for x in round_trip([True, 1, 1.0])] == [bool, int, float]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------- numpy and torch
NUMPY_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64", "float16",
                "float32", "float64", "complex64", "complex128", ">f8", ">i4"]


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3, 4)])
def test_numpy_arrays_keep_dtype_shape_and_values(dtype: str, shape: tuple[int, ...]) -> None:
    """Test whether arrays of every numeric dtype, 0-d and empty included, come back exactly."""
    generator = np.random.default_rng(0)
    array = np.asarray(generator.normal(size=shape) * 50).astype(dtype)  # (shape), 0-d stays an array
    if np.dtype(dtype).kind == "c":
        array = np.asarray(array + 1j * np.dtype(dtype).type(0.25))
    back = round_trip(array)
    assert isinstance(back, np.ndarray) and back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()


def test_numpy_extremes_and_views() -> None:
    """Test whether nan, the dtype's limits and a strided view come back bit for bit."""
    floats = np.array([np.nan, np.inf, -np.inf, -0.0, np.finfo(np.float64).tiny], dtype=np.float64)
    big = np.array([np.iinfo(np.uint64).max, 0], dtype=np.uint64)
    view = np.arange(24, dtype=np.int32).reshape(4, 6)[::2, 1::2].T  # not contiguous
    for array in (floats, big, view):
        back = round_trip(array)
        assert back.dtype == array.dtype and back.shape == array.shape  # type: ignore[union-attr]
        assert np.ascontiguousarray(back).tobytes() == np.ascontiguousarray(array).tobytes()


@pytest.mark.parametrize("scalar", [np.float32(1.5), np.float64(np.nan), np.int64(-3), np.uint8(255),
                                    np.bool_(True), np.complex64(1 - 2j), np.float16(0.1)])
def test_numpy_scalars(scalar: np.generic) -> None:
    """Test whether numpy scalars come back as the same numpy type with the same bits."""
    back = round_trip(scalar)
    assert type(back) is type(scalar) and back.tobytes() == scalar.tobytes()  # type: ignore[attr-defined]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128])
@pytest.mark.parametrize("shape", [(), (0,), (2, 3, 4, 5)])
def test_tensors_keep_dtype_shape_and_values(dtype: torch.dtype, shape: tuple[int, ...]) -> None:
    """Test whether tensors of every dtype NetLens uses come back exactly."""
    tensor = (torch.randn(shape, generator=torch.Generator().manual_seed(1)) * 20).to(dtype)
    back = round_trip(tensor)
    assert isinstance(back, torch.Tensor) and back.dtype == dtype and back.shape == tensor.shape
    assert torch.equal(back, tensor)


def test_tensor_memory_format_and_gradient_flags() -> None:
    """Test whether a channels-last tensor keeps its values (it may come back contiguous) and whether a
    parameter stays a parameter that wants gradients."""
    images = to_tensor(np.random.default_rng(2).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8))  # channels-last
    parameter = nn.Parameter(torch.ones(3))
    back_images, back_parameter, back_plain = round_trip([images, parameter, torch.ones(2)])  # type: ignore[misc]
    assert torch.equal(back_images, images)
    assert type(back_parameter) is nn.Parameter and back_parameter.requires_grad
    assert type(back_plain) is torch.Tensor and not back_plain.requires_grad


def test_tensors_and_arrays_share_one_safetensors_blob() -> None:
    """Test whether the bytes are the JSON structure followed by a safetensors blob holding every array."""
    data = encode({"w": torch.ones(2, 2), "x": np.zeros(3, dtype=np.uint8)})
    length = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 8], "little")
    structure = json.loads(data[len(MAGIC) + 8 : len(MAGIC) + 8 + length])
    from safetensors.torch import load

    blob = load(data[len(MAGIC) + 8 + length :])
    assert sorted(blob) == ["0", "1"] and structure["$"] == "dict"


# ------------------------------------------------------------------------------ NetLens's own classes
def tiny_training(seed: int = 0) -> tuple[TrainResult, np.ndarray]:
    """A real, tiny `core.training.train` run (and the pictures it learned from)."""
    generator = np.random.default_rng(seed)
    images = generator.integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)  # (N, H, W, 3)
    labels = np.arange(40) % 2
    result = train(ModelConfig(num_classes=2, width=4, depth=2), TrainConfig(epochs=2, batch_size=16), images,
                   labels, seed=seed)
    return result, images


def test_train_result_round_trip_predicts_the_same_logits() -> None:
    """Test whether a decoded TrainResult rebuilds a network whose logits equal the original's exactly."""
    result, images = tiny_training()
    back = round_trip(result)
    assert isinstance(back, TrainResult) and back.model_config == result.model_config
    assert list(back.state_dict) == list(result.state_dict)
    assert all(torch.equal(back.state_dict[name], tensor) for name, tensor in result.state_dict.items())
    assert back.seconds == result.seconds and len(back.history) == len(result.history) > 0
    assert all(isinstance(progress, Progress) for progress in back.history)
    assert encode(back.history) == encode(result.history)  # fields equal, NaN included (NaN != NaN)
    with torch.no_grad():
        inputs = to_tensor(images)
        assert torch.equal(back.model()(inputs), result.model()(inputs))


def test_modules_rebuild_from_config_with_mode_and_weights_and_leave_the_rng_alone() -> None:
    """Test whether a SmallCNN comes back with its config, weights and train/eval mode, and whether decoding it
    does not draw from torch's global random generator (other sessions' results must not depend on it)."""
    network = build_model(ModelConfig(width=4, depth=2), seed=3)
    inputs = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    for training in (True, False):
        data = encode(network.train(training))
        before = torch.get_rng_state()
        back = decode(data)
        assert torch.equal(torch.get_rng_state(), before)
        assert type(back) is SmallCNN and back.config == network.config and back.training is training
        assert all(part.training is training for part in back.modules())
        with torch.no_grad():
            assert torch.equal(back.eval()(inputs), network.eval()(inputs))


def test_nested_lesson_result_round_trips() -> None:
    """Test whether a whole lesson result (frozen dataclasses holding dataclasses, arrays with inf, None)
    comes back equal, field by field."""
    result = run_house_prices(HousePricesSettings(learning_rate=5.0, nudges=20))  # explodes: inf errors
    assert not np.all(np.isfinite(result.errors))  # the case worth checking
    back = round_trip(result)
    assert type(back) is type(result) and back.settings == result.settings
    assert type(back.houses) is type(result.houses)
    for name in ("path", "errors", "best"):
        assert np.array_equal(getattr(back, name), getattr(result, name), equal_nan=True)
    assert np.array_equal(back.houses.price, result.houses.price)
    assert back.exploded == result.exploded  # properties work on the rebuilt object
    with pytest.raises(AttributeError):
        back.settings.seed = 3  # still frozen


@dataclass(frozen=True)
class _Derived:
    """A frozen dataclass with a field made by __post_init__ (placed in a core module by the fixture below)."""

    values: tuple[int, ...]
    total: int = field(init=False)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", sum(self.values))


@pytest.fixture()
def core_dataclass(monkeypatch: pytest.MonkeyPatch) -> type:
    """`_Derived` as if defined in core.persist (only classes under `core.` may be stored)."""
    monkeypatch.setattr(_Derived, "__module__", "core.persist")
    monkeypatch.setattr(core.persist, "_Derived", _Derived, raising=False)
    return _Derived


def test_init_false_fields_round_trip(core_dataclass: type) -> None:
    """Test whether a field(init=False) computed at construction comes back with its stored value."""
    value = core_dataclass((1, 2, 3), notes=["x"])
    back = round_trip(value)
    assert type(back) is core_dataclass and back == value and back.total == 6  # type: ignore[attr-defined]


def test_cached_properties_are_dropped(small_data) -> None:  # type: ignore[no-untyped-def]
    """Test whether a value cached by functools.cached_property is left out, and recomputed after decoding."""
    empty = encode(small_data)
    baseline = small_data.baseline  # now cached in small_data.__dict__
    assert "baseline" in small_data.__dict__
    assert encode(small_data) == empty
    back = decode(empty)
    assert "baseline" not in back.__dict__ and torch.equal(back.baseline, baseline)
    assert np.array_equal(back.train.images, small_data.train.images) and back.train.specs == small_data.train.specs


# -------------------------------------------------------------------------------------------- refusals
@dataclass(frozen=True)
class NotCore:
    x: int = 1


class LocalNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(2, 2)


@pytest.mark.parametrize("value", [
    NotCore(), [1, NotCore()], {"model": nn.Linear(2, 2)}, LocalNet(ModelConfig()), SqueezeCNN((4, 8)),
    object(), b"bytes", np.array(["a"]), np.array([1], dtype=object), torch.ones(2).to_sparse(),
    {"set of tensors": {torch.ones(1)}}, lambda: 1, Path("."),
])
def test_encode_refuses_what_it_cannot_rebuild(value: object) -> None:
    """Test whether classes outside core, networks without a config and unknown types raise Unsupported."""
    with pytest.raises(Unsupported):
        encode(value)


def test_mixed_train_and_eval_parts_are_refused() -> None:
    """Test whether a network whose parts are in different modes is refused (one flag could not restore it)."""
    network = SmallCNN(ModelConfig()).eval()
    network.features[1].train()
    with pytest.raises(Unsupported):
        encode(network)


def test_a_value_containing_itself_is_refused() -> None:
    """Test whether a cycle raises Unsupported instead of recursing forever."""
    loop: list = []
    loop.append(loop)
    with pytest.raises(Unsupported):
        encode(loop)


@dataclass(frozen=True)
class ModelConfigTwin:
    """Fields like ModelConfig's, so only the class path tells a stored ModelConfig from one of these."""

    num_classes: int = 2
    width: int = 8
    depth: int = 3


@pytest.mark.parametrize("path", ["tests.core.test_persist:ModelConfigTwin", "os:system", "builtins:object",
                                  "core.persist:np", "core.training:nn.Module", "core.training:TrainConfig.x",
                                  "core:ModelConfig", "core.models:<locals>"])
def test_decode_refuses_class_paths_outside_core(path: str) -> None:
    """Test whether a tampered entry naming any class not defined under `core.` is Corrupt, not built."""
    data = rewrite_structure(encode(ModelConfig()), "core.models:ModelConfig", path)
    with pytest.raises(Corrupt):
        decode(data)


def test_decode_refuses_a_changed_class_layout() -> None:
    """Test whether an entry whose fields no longer match the class is Corrupt (code changed underneath)."""
    data = rewrite_structure(encode(ModelConfig()), '"width"', '"breadth"')
    with pytest.raises(Corrupt):
        decode(data)


def test_damaged_bytes_are_corrupt() -> None:
    """Test whether empty, foreign, and truncated-anywhere bytes raise Corrupt (never another error)."""
    data = encode({"w": torch.arange(50.0), "config": ModelConfig(), "name": "x" * 30})
    for cut in range(0, len(data), 7):
        with pytest.raises(Corrupt):
            decode(data[:cut])
    for bad in (b"", b"garbage", b"\x80" * 100, MAGIC + b"\xff" * 8 + b"{}"):
        with pytest.raises(Corrupt):
            decode(bad)
    with pytest.raises(Corrupt):
        decode(rewrite_structure(data, '"$":"tensor"', '"$":"pickle"'))


# ------------------------------------------------------------------------------- determinism and digests
def test_encode_is_deterministic_for_equal_values() -> None:
    """Test whether equal values (built separately, sets in different insertion orders) give equal bytes."""
    first = {"s": {"a", "b", "c", "d"}, "m": build_model(ModelConfig(width=4), seed=1), "x": np.arange(5)}
    second = {"s": {"d", "c", "b", "a"}, "m": build_model(ModelConfig(width=4), seed=1), "x": np.arange(5)}
    assert encode(first) == encode(second)
    assert encode(first) != encode({**first, "x": np.arange(5).astype(np.int32)})


def test_encode_is_the_same_in_every_process() -> None:
    """Test whether string sets encode alike under different hash seeds (their iteration order differs)."""
    program = ("import hashlib, sys; from core.persist import encode; from core.models import ModelConfig; "
               "print(hashlib.sha256(encode(({'grass', 'sand', 'snow', 'water', 'road'}, ModelConfig()))).hexdigest())")
    outputs = set()
    for seed in ("1", "2", "3"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "OMP_NUM_THREADS": "1"}
        outputs.add(subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment, check=True,
                                   capture_output=True, text=True).stdout.strip())
    assert len(outputs) == 1


def test_digest_names_equal_keys_alike_and_others_apart() -> None:
    """Test whether digest depends on namespace, key and version, and only on their values."""
    key = (HousePricesSettings(start=(0, 0, 0)), "training", 3)
    same = (HousePricesSettings(start=(0.0, 0.0, 0.0)), "training", 3)  # normalised by the settings: equal
    name = digest("house_prices/training", key, "v1")
    assert len(name) == 64 and int(name, 16) >= 0
    assert digest("house_prices/training", same, "v1") == name
    others = {digest("house_prices/results", key, "v1"), digest("house_prices/training", key, "v2"),
              digest("house_prices/training", (key[0], "training", 4), "v1"),
              digest("house_prices/trainin", key, "gv1")}
    assert name not in others and len(others) == 4
