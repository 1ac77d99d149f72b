"""Typed data to JSON and back, for every file filmscore writes and reads again (the analysis cache, the
music library's index): plain JSON carries no code, and reading it back checks each value against the
dataclass field it fills, so a corrupt, foreign or hostile file is refused with a `DataError`, never run
and never an internal error further on.

Two field options shape the JSON of a dataclass (in the field's metadata): `OMIT_NONE` leaves the field
out where it is None, and `REST` spreads a `dict` field's entries among the object's own (reading puts
every key the dataclass has no field for there).

Bytes go to a side list of blobs (the caller stores them as uint8 arrays in an `.npz`) rather than into
the JSON, and come back from it by index.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
OMIT_NONE = "omit_none"  # metadata: the field is left out of the JSON where it is None
REST = "rest"  # metadata: a dict field whose entries sit among the object's own keys
MAX_DEPTH = 64  # no filmscore structure nests deeper; a hostile file that does is refused, not recursed


class DataError(ValueError):
    """The data does not have the shape of the type it is read as."""


def to_plain(value: object, blobs: list[bytes]) -> Any:
    """`value` (dataclasses, tuples, dicts, enums, paths, numbers, strings, bytes) as JSON-ready data; each
    bytes value is appended to `blobs` and written as {"blob": index}."""
    if isinstance(value, bytes):
        blobs.append(value)
        return {"blob": len(blobs) - 1}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain_dataclass(value, blobs)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [to_plain(item, blobs) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item, blobs) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{value} has no JSON form")
    return value


def _plain_dataclass(value: Any, blobs: list[bytes]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        if field.metadata.get(REST):
            plain.update(to_plain(item, blobs))
        elif item is not None or not field.metadata.get(OMIT_NONE):
            plain[field.name] = to_plain(item, blobs)
    return plain


def from_plain(kind: type[T], data: Any, blobs: typing.Sequence[bytes] = ()) -> T:
    """`data` read back as `kind`, every field checked. Raises DataError naming the first misfit."""
    return typing.cast(T, _read(kind, data, blobs, "top", 0))


def _read(kind: Any, data: Any, blobs: typing.Sequence[bytes], where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise DataError(f"{where}: nested too deeply")
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _read_union(typing.get_args(kind), data, blobs, where, depth)
    if origin is tuple:
        return _read_tuple(typing.get_args(kind), data, blobs, where, depth)
    if origin is dict:
        key_kind, value_kind = typing.get_args(kind)
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected an object")
        return {
            _read(key_kind, key, blobs, where, depth + 1): _read(
                value_kind, item, blobs, f"{where}.{key}", depth + 1
            )
            for key, item in data.items()
        }
    if dataclasses.is_dataclass(kind):
        return _read_dataclass(kind, data, blobs, where, depth)
    return _read_scalar(kind, data, blobs, where)


def _read_union(
    options: tuple[Any, ...], data: Any, blobs: typing.Sequence[bytes], where: str, depth: int
) -> Any:
    if data is None and type(None) in options:
        return None
    for option in options:
        if option is type(None):
            continue
        try:
            return _read(option, data, blobs, where, depth + 1)
        except DataError:
            continue
    raise DataError(f"{where}: fits none of {', '.join(getattr(o, '__name__', str(o)) for o in options)}")


def _read_tuple(
    args: tuple[Any, ...], data: Any, blobs: typing.Sequence[bytes], where: str, depth: int
) -> tuple:
    if not isinstance(data, list):
        raise DataError(f"{where}: expected a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_read(args[0], item, blobs, f"{where}[{i}]", depth + 1) for i, item in enumerate(data))
    if len(data) != len(args):
        raise DataError(f"{where}: expected {len(args)} items, found {len(data)}")
    return tuple(
        _read(a, item, blobs, f"{where}[{i}]", depth + 1)
        for i, (a, item) in enumerate(zip(args, data, strict=True))
    )


def _read_dataclass(kind: Any, data: Any, blobs: typing.Sequence[bytes], where: str, depth: int) -> Any:
    if not isinstance(data, dict):
        raise DataError(f"{where}: expected an object for {kind.__name__}")
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind) if f.init}
    rest = next((name for name, f in fields.items() if f.metadata.get(REST)), None)
    unknown = set(data) - (set(fields) - {rest})
    if rest is not None:
        data = {
            **{k: v for k, v in data.items() if k not in unknown},
            rest: {k: v for k, v in data.items() if k in unknown},
        }
    elif unknown:
        raise DataError(f"{where}: {kind.__name__} has no field {sorted(unknown)[0]!r}")
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _read(hints[name], data[name], blobs, f"{where}.{name}", depth + 1)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise DataError(f"{where}: {kind.__name__} lacks {name!r}")
    try:
        return kind(**values)
    except (TypeError, ValueError) as exc:  # a dataclass's own __post_init__ checks
        raise DataError(f"{where}: {exc}") from None


def _read_scalar(kind: Any, data: Any, blobs: typing.Sequence[bytes], where: str) -> Any:
    if kind is Any:
        return data
    if kind is bytes:
        index = data.get("blob") if isinstance(data, dict) and len(data) == 1 else None
        if type(index) is not int or not 0 <= index < len(blobs):
            raise DataError(f"{where}: expected a blob reference")
        return blobs[index]
    if kind is float:
        # JSON writes 2.0 as 2.0, but an integral float may come back as an int from other writers
        if type(data) not in (int, float) or not math.isfinite(data):
            raise DataError(f"{where}: expected a finite number")
        return float(data)
    if kind in (int, str, bool):
        if type(data) is not kind:
            raise DataError(f"{where}: expected {kind.__name__}")
        return data
    if kind is Path:
        if type(data) is not str:
            raise DataError(f"{where}: expected a path")
        return Path(data)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(data)
        except ValueError:
            raise DataError(f"{where}: {data!r} is not a {kind.__name__}") from None
    raise DataError(f"{where}: cannot read a {kind!r}")
