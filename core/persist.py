"""Results as bytes and back, without pickle: the structure as JSON, every array and tensor in one safetensors blob.

Pickle runs code named by the data, so a tampered cache entry could run anything; here decoding only ever builds
plain containers, numbers, arrays, tensors, and instances of NetLens's own classes (dataclasses and networks
under `core.`), and refuses any other class path. Encoding is deterministic (the same value gives the same
bytes, whatever the process or the order a set happens to iterate in), so it also names cache entries:
`digest(namespace, key, version)`.

Layout: MAGIC · JSON length (8 bytes, little-endian) · JSON (ASCII) · safetensors blob (tensors "0", "1", ...
in the order the JSON refers to them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import math
import struct
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

MAGIC = b"NLPERSIST1\n"
_LENGTH = struct.Struct("<Q")
_TORCH_DTYPES = {str(dtype).removeprefix("torch."): dtype for dtype in (
    torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint16, torch.uint32,
    torch.uint64, torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128)}


class Unsupported(TypeError):
    """`encode` cannot represent this value; keep it in memory only."""


class Corrupt(ValueError):
    """These bytes are not a value `encode` wrote (damaged, truncated, or naming a class outside `core.`)."""


# ------------------------------------------------------------------------------------------------ encoding
class _Encoder:
    """One encoding: turns a value into a JSON node, collecting tensors in the order they are met."""

    def __init__(self) -> None:
        self.tensors: list[torch.Tensor] = []

    def node(self, value: object) -> Any:
        kind = type(value)
        if value is None or kind is bool or kind is int or kind is str:
            return value
        if kind is float:
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}  # 'nan', 'inf', '-inf'
        if kind is list:
            return [self.node(item) for item in value]  # type: ignore[attr-defined]
        if kind is tuple:
            return {"$": "tuple", "v": [self.node(item) for item in value]}  # type: ignore[attr-defined]
        if kind is dict or kind is OrderedDict:
            items = [[self.node(k), self.node(v)] for k, v in value.items()]  # type: ignore[attr-defined]
            return {"$": "dict" if kind is dict else "odict", "v": items}
        if kind is set or kind is frozenset:
            return {"$": kind.__name__, "v": self._sorted_members(value)}  # type: ignore[arg-type]
        if isinstance(value, np.ndarray) and kind is np.ndarray:
            return self._array(value)
        if isinstance(value, np.generic):
            return self._numpy_scalar(value)
        if isinstance(value, torch.Tensor) and (kind is torch.Tensor or kind is torch.nn.Parameter):
            return self._tensor(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._dataclass(value)
        if isinstance(value, torch.nn.Module):
            return self._module(value)
        raise Unsupported(f"cannot store a {_path(kind)} on disk")

    def _sorted_members(self, members: set | frozenset) -> list:
        """Set members in the order of their JSON text: iteration order of str sets differs between processes."""
        nodes = []
        for member in members:
            before = len(self.tensors)
            nodes.append(self.node(member))
            if len(self.tensors) != before:
                raise Unsupported("cannot store a set holding arrays or tensors (their order would not be stable)")
        return sorted(nodes, key=_canonical_json)

    def _keep(self, tensor: torch.Tensor) -> int:
        """Index of `tensor` in the blob; complex numbers go in as (real, imaginary) pairs, which safetensors
        stores for every precision."""
        self.tensors.append(torch.view_as_real(tensor).clone() if tensor.is_complex() else tensor)
        return len(self.tensors) - 1

    def _array(self, array: np.ndarray) -> dict:
        if array.dtype.kind not in "biufc":
            raise Unsupported(f"cannot store a numpy array of dtype {array.dtype}")
        native = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("=")).reshape(-1)  # (size,)
        try:
            tensor = torch.from_numpy(native.copy())
        except TypeError as error:
            raise Unsupported(f"cannot store a numpy array of dtype {array.dtype}: {error}") from None
        return {"$": "ndarray", "dtype": array.dtype.str, "shape": list(array.shape), "i": self._keep(tensor)}

    def _numpy_scalar(self, scalar: np.generic) -> dict:
        if scalar.dtype.kind not in "biufc":
            raise Unsupported(f"cannot store a numpy scalar of dtype {scalar.dtype}")
        return {"$": "npscalar", "dtype": scalar.dtype.str, "hex": scalar.tobytes().hex()}

    def _tensor(self, tensor: torch.Tensor) -> dict:
        dtype = str(tensor.dtype).removeprefix("torch.")
        if dtype not in _TORCH_DTYPES or tensor.layout != torch.strided or tensor.is_quantized:
            raise Unsupported(f"cannot store a tensor of dtype {tensor.dtype} and layout {tensor.layout}")
        flat = tensor.detach().cpu().contiguous().reshape(-1).clone()  # (numel,), its own storage
        return {"$": "tensor", "dtype": dtype, "shape": list(tensor.shape), "grad": bool(tensor.requires_grad),
                "param": type(tensor) is torch.nn.Parameter, "channels_last": _channels_last(tensor),
                "i": self._keep(flat)}

    def _dataclass(self, value: object) -> dict:
        """Every field, `init=False` ones included; other attributes (functools.cached_property values) are
        derived and left out."""
        fields = [[field.name, self.node(getattr(value, field.name))] for field in dataclasses.fields(value)]
        return {"$": "dataclass", "cls": _core_class_path(type(value)), "fields": fields}

    def _module(self, module: torch.nn.Module) -> dict:
        """A network rebuilt as `Cls(config)` with these weights; refused when it cannot be rebuilt that way."""
        config = getattr(module, "config", None)
        if config is None or not dataclasses.is_dataclass(config) or isinstance(config, type):
            raise Unsupported(f"cannot store a {_path(type(module))}: it has no `config` dataclass to rebuild it from")
        try:
            inspect.signature(type(module)).bind(config)
        except (TypeError, ValueError):
            raise Unsupported(f"cannot store a {_path(type(module))}: it is not built by calling it with its "
                              "config") from None
        if any(part.training != module.training for part in module.modules()):
            raise Unsupported(f"cannot store a {_path(type(module))} whose parts are in mixed train/eval modes")
        path = _core_class_path(type(module))
        weights = [tensor for tensor in module.parameters() if tensor.dim() == 4]
        channels_last = bool(weights) and all(_channels_last(tensor) for tensor in weights)
        return {"$": "module", "cls": path, "config": self.node(config), "training": module.training,
                "channels_last": channels_last, "state": self.node(dict(module.state_dict()))}


def _channels_last(tensor: torch.Tensor) -> bool:
    """Whether a 4-d tensor is laid out channels-last (convolutions then add up in another order, so the
    layout must come back for logits to match bit for bit)."""
    return tensor.dim() == 4 and tensor.is_contiguous(memory_format=torch.channels_last) \
        and not tensor.is_contiguous()


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _core_class_path(cls: type) -> str:
    """'module:QualName' for a class NetLens itself defines at module level; anything else is refused."""
    if not cls.__module__.startswith("core.") or "<locals>" in cls.__qualname__:
        raise Unsupported(f"cannot store a {_path(cls)}: only classes defined at the top of a `core.` module "
                          "are stored")
    return f"{cls.__module__}:{cls.__qualname__}"


def _canonical_json(node: Any) -> str:
    return json.dumps(node, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def encode(value: object) -> bytes:
    """`value` as bytes; the same value always gives the same bytes. Raises `Unsupported` for what it cannot store."""
    encoder = _Encoder()
    try:
        structure = _canonical_json(encoder.node(value)).encode("ascii")
    except RecursionError:
        raise Unsupported("cannot store a value nested this deeply (or one that contains itself)") from None
    blob = save_tensors({str(index): tensor for index, tensor in enumerate(encoder.tensors)})
    return MAGIC + _LENGTH.pack(len(structure)) + structure + blob


def digest(namespace: str, key: object, version: str) -> str:
    """The sha256 (hex) naming `key`'s entry in `namespace` for code `version`: equal keys, equal names."""
    hasher = hashlib.sha256()
    for part in (b"netlens-digest", namespace.encode(), version.encode()):
        hasher.update(_LENGTH.pack(len(part)) + part)  # length-prefixed, so ("ab", "c") and ("a", "bc") differ
    hasher.update(encode(key))
    return hasher.hexdigest()


# ------------------------------------------------------------------------------------------------ decoding
class _Decoder:
    """One decoding: turns JSON nodes back into values, taking tensors from the blob."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        self.tensors = tensors

    def value(self, node: Any) -> object:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.value(item) for item in node]
        tag = node["$"]
        if tag == "float":
            if node["v"] not in ("nan", "inf", "-inf"):
                raise Corrupt(f"not a special float: {node['v']!r}")
            return float(node["v"])
        if tag == "tuple":
            return tuple(self.value(item) for item in node["v"])
        if tag in ("dict", "odict"):
            pairs = ((self.value(k), self.value(v)) for k, v in node["v"])
            return dict(pairs) if tag == "dict" else OrderedDict(pairs)
        if tag in ("set", "frozenset"):
            members = (self.value(item) for item in node["v"])
            return set(members) if tag == "set" else frozenset(members)
        if tag == "ndarray":
            return self._array(node)
        if tag == "npscalar":
            dtype = np.dtype(node["dtype"])
            if dtype.kind not in "biufc":
                raise Corrupt(f"not a numeric dtype: {dtype}")
            return np.frombuffer(bytes.fromhex(node["hex"]), dtype=dtype)[0]
        if tag == "tensor":
            return self._tensor(node)
        if tag == "dataclass":
            return self._dataclass(node)
        if tag == "module":
            return self._module(node)
        raise Corrupt(f"unknown tag {tag!r}")

    def _flat(self, index: int, complex_: bool) -> torch.Tensor:
        tensor = self.tensors[str(index)]
        return torch.view_as_complex(tensor.contiguous()) if complex_ else tensor

    def _array(self, node: dict) -> np.ndarray:
        dtype = np.dtype(node["dtype"])
        if dtype.kind not in "biufc":
            raise Corrupt(f"not a numeric dtype: {dtype}")
        flat = self._flat(node["i"], dtype.kind == "c").numpy()  # (size,), native byte order
        return flat.astype(dtype, copy=False).reshape(node["shape"])

    def _tensor(self, node: dict) -> torch.Tensor:
        tensor = self._flat(node["i"], node["dtype"].startswith("complex"))
        if str(tensor.dtype).removeprefix("torch.") != node["dtype"]:
            raise Corrupt(f"tensor {node['i']} is {tensor.dtype}, the structure says {node['dtype']}")
        tensor = tensor.reshape(node["shape"])
        if node["channels_last"]:
            tensor = tensor.contiguous(memory_format=torch.channels_last)
        if node["param"]:
            return torch.nn.Parameter(tensor, requires_grad=node["grad"])
        return tensor.requires_grad_(node["grad"]) if node["grad"] else tensor

    def _dataclass(self, node: dict) -> object:
        """Rebuilt field by field without calling __init__ (so `init=False` fields and frozen classes work,
        and validation that already passed is not repeated)."""
        cls = _core_class(node["cls"])
        if not dataclasses.is_dataclass(cls):
            raise Corrupt(f"{node['cls']} is not a dataclass")
        names = [name for name, _ in node["fields"]]
        if names != [field.name for field in dataclasses.fields(cls)]:
            raise Corrupt(f"{node['cls']} now has different fields than the stored one")
        instance = cls.__new__(cls)
        for name, field_node in node["fields"]:
            object.__setattr__(instance, name, self.value(field_node))
        return instance

    def _module(self, node: dict) -> torch.nn.Module:
        cls = _core_class(node["cls"])
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise Corrupt(f"{node['cls']} is not a network")
        config = self.value(node["config"])
        with torch.random.fork_rng(devices=[]):  # the initial weights are overwritten: leave the global RNG alone
            module = cls(config)
        if node["channels_last"]:
            module = module.to(memory_format=torch.channels_last)
        module.load_state_dict(self.value(node["state"]))  # strict: every weight, and nothing else
        return module.train(bool(node["training"]))


def _core_class(path: str) -> type:
    """The class at 'module:QualName', only for modules under `core.`; it must be defined exactly there."""
    module_name, _, qualname = path.partition(":")
    if not module_name.startswith("core.") or not qualname or "<" in qualname:
        raise Corrupt(f"refusing to build {path!r}: only classes under `core.` are decoded")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, type) or found.__module__ != module_name or found.__qualname__ != qualname:
        raise Corrupt(f"refusing to build {path!r}: it is not a class defined there")
    return found


def decode(data: bytes) -> object:
    """The value `encode` turned into `data`; raises `Corrupt` for anything else."""
    data = bytes(data)
    head = len(MAGIC) + _LENGTH.size
    if len(data) < head or not data.startswith(MAGIC):
        raise Corrupt("not a NetLens value (wrong or missing header)")
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if head + length > len(data):
        raise Corrupt(f"truncated: the structure needs {length} bytes, {len(data) - head} are there")
    try:
        structure = json.loads(data[head : head + length].decode("ascii"))
        decoder = _Decoder(load_tensors(data[head + length :]))
        return decoder.value(structure)
    except Corrupt:
        raise
    except Exception as error:  # noqa: BLE001 - damaged bytes surface as many types (safetensors has its own)
        raise Corrupt(f"damaged value: {type(error).__name__}: {error}") from None
