"""The JSON Schema of report.json, generated from its types (report/model.py): every object, field,
required field and vocabulary comes from the dataclasses, so the schema cannot drift from what is written.
`python -m filmscore.report.schema` writes the copy in schema/report.schema.json that users and other
tools read; a test keeps that copy equal to this."""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from pathlib import Path
from typing import Any

from filmscore.core.codec import OMIT_NONE, REST
from filmscore.report.model import SCHEMA_VERSION, WRITTEN_WITH, Report

SCHEMA_FILE = Path(__file__).parent / "schema" / "report.schema.json"
JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@functools.cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema that every report.json satisfies."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://filmscore.invalid/schema/report-{SCHEMA_VERSION}.json",
        "title": "filmscore report",
        **_object(Report),
    }


def schema_text() -> str:
    return json.dumps(report_schema(), indent=2, ensure_ascii=False) + "\n"


def _node(kind: Any) -> dict[str, Any]:
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(kind)
        node = _node(base)
        for extra in extras:
            node.update(extra.constraints)
        return node
    if origin in (typing.Union, types.UnionType):
        return _nullable([a for a in typing.get_args(kind) if a is not type(None)])
    if origin is tuple:
        return _array(typing.get_args(kind))
    if origin is dict:
        value = typing.get_args(kind)[1]
        return {"type": "object", **({} if value is Any else {"additionalProperties": _node(value)})}
    if dataclasses.is_dataclass(kind):
        return _object(kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return {"enum": [member.value for member in kind]}
    if kind in JSON_TYPES:
        return {"type": JSON_TYPES[kind]}
    raise TypeError(f"report.json has no JSON form for {kind!r}")


def _nullable(options: list[Any]) -> dict[str, Any]:
    (kind,) = options  # the report's unions are all "X or null"
    node = _node(kind)
    if "enum" in node:
        return {**node, "enum": [*node["enum"], None]}
    if isinstance(node.get("type"), str) and node["type"] != "object":
        return {**node, "type": [node["type"], "null"]}
    return {"oneOf": [{"type": "null"}, node]}


def _without_none(kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        (kind,) = [a for a in typing.get_args(kind) if a is not type(None)]
    return kind


def _array(args: tuple[Any, ...]) -> dict[str, Any]:
    if len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _node(args[0])}
    (item,) = set(args)  # a fixed-length tuple of one kind: a pair of times
    return {"type": "array", "items": _node(item), "minItems": len(args), "maxItems": len(args)}


def _object(kind: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(kind, include_extras=True)
    properties: dict[str, Any] = {}
    required = []
    rest: dict[str, Any] | bool = False
    for field in dataclasses.fields(kind):
        if field.metadata.get(REST):
            rest = _node(hints[field.name])["additionalProperties"]
            continue
        omitted = field.metadata.get(OMIT_NONE)  # absent, never null, where it is None
        hint = _without_none(hints[field.name]) if omitted else hints[field.name]
        properties[field.name] = {**_node(hint), **field.metadata.get("schema", {})}
        optional = omitted or field.metadata.get(WRITTEN_WITH)
        if (
            not optional
            and field.default is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        ):
            required.append(field.name)
    doc = kind.__doc__ if kind.__doc__ and not kind.__doc__.startswith(f"{kind.__name__}(") else ""
    return {
        "type": "object",
        **({"description": " ".join(doc.split())} if doc else {}),
        "required": required,
        "properties": properties,
        "additionalProperties": rest,
    }


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
