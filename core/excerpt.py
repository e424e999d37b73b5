"""Code excerpts for the "under the hood" parts: the lines of a core function that just ran, from its source."""

from __future__ import annotations

import inspect
from typing import Callable


def source_lines(function: Callable, first: str, last: str, skip: tuple[str, ...] = ()) -> str:
    """The lines of `function`'s source from the one containing `first` to the one containing `last`, without
    lines containing any of `skip`, dedented. ValueError when a marker is missing (the function changed and
    the excerpt must be updated), so a test catches it instead of the page showing nothing."""
    try:
        source = inspect.getsource(function).splitlines()
    except (OSError, TypeError) as error:
        raise ValueError(f"no source for {function!r}: {error}") from error
    start = next((i for i, line in enumerate(source) if first in line), None)
    if start is None:
        raise ValueError(f"{function.__qualname__} has no line containing {first!r}")
    end = next((i for i, line in enumerate(source) if i >= start and last in line), None)
    if end is None:
        raise ValueError(f"{function.__qualname__} has no line containing {last!r} after {first!r}")
    lines = [line for line in source[start : end + 1] if not any(part in line for part in skip)]
    indent = len(lines[0]) - len(lines[0].lstrip())
    return "\n".join(line[indent:] for line in lines)
