"""Structured output: a model's JSON reply parsed and checked against the request's schema.

A light JSON-schema validator, enough for kb's strict schemas (type, enum, const,
required, properties, additionalProperties, items, minItems/maxItems, minLength,
anyOf/oneOf and local $ref), so that every provider, local servers included, hands kb
only replies that match; and `template(schema)`, the reply's shape with blanks, for a
server that cannot be asked for the schema. No dependency: what the providers need, no more.

    python -c "from kb.providers.structured import validate; print(validate(1, {'type': 'string'}))"
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.DOTALL)


def parse_structured(text: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """Parse and validate a JSON reply: (data, None) or (None, what is wrong)."""
    fenced = _FENCE.match(text)  # small local models like to wrap JSON in a code fence
    try:
        data = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    problems = validate(data, schema)
    if problems:
        return None, "does not match the schema: " + "; ".join(problems[:5])
    return data, None


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(data: Any, schema: dict[str, Any], path: str = "$", root: Any = None) -> list[str]:
    """Light JSON-schema validation: type, enum, const, required, properties,
    additionalProperties, items, minItems/maxItems, minLength, anyOf/oneOf and local $ref.
    Returns the problems found, each with its JSON path; [] means valid."""
    root = schema if root is None else root
    if "$ref" in schema:
        return validate(data, _resolve_ref(schema["$ref"], root), path, root)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        if any(not validate(data, v, path, root) for v in variants):
            return []
        return [f"{path}: matches none of the allowed shapes"]
    problems = _check_scalar(data, schema, path)
    if problems:
        return problems
    if isinstance(data, dict):
        return _check_object(data, schema, path, root)
    if isinstance(data, list):
        return _check_array(data, schema, path, root)
    return []


_BLANKS: dict[str, Any] = {"string": "...", "integer": 0, "number": 0, "boolean": False}


def template(schema: dict[str, Any], root: Any = None) -> Any:
    """A reply of `schema`'s shape with blanks to fill in, for a prompt: every property,
    one item per array, an enum's first value. Small models follow it better than a schema."""
    root = schema if root is None else root
    if "$ref" in schema:
        return template(_resolve_ref(schema["$ref"], root), root)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return template(variants[0], root)
    if "enum" in schema or "const" in schema:
        return schema["enum"][0] if "enum" in schema else schema["const"]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        return {key: template(sub, root) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        items = schema.get("items")
        return [template(items, root)] if isinstance(items, dict) else []
    return _BLANKS.get(kind or "")


def _resolve_ref(ref: str, root: Any) -> dict[str, Any]:
    node = root
    for key in ref.removeprefix("#/").split("/"):
        if not ref.startswith("#/") or not isinstance(node, dict) or key not in node:
            raise ValueError(f"unsupported or unknown $ref {ref!r} in schema")
        node = node[key]
    return node


def _check_scalar(data: Any, schema: dict[str, Any], path: str) -> list[str]:
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_TYPES.get(name, lambda _v: True)(data) for name in names):
            return [f"{path}: expected {'/'.join(names)}, got {type(data).__name__}"]
    if "enum" in schema and data not in schema["enum"]:
        return [f"{path}: {data!r} is not one of {schema['enum']!r}"]
    if "const" in schema and data != schema["const"]:
        return [f"{path}: expected {schema['const']!r}"]
    if isinstance(data, str) and len(data) < schema.get("minLength", 0):
        return [f"{path}: shorter than {schema['minLength']} characters"]
    return []


def _check_object(data: dict, schema: dict[str, Any], path: str, root: Any) -> list[str]:
    required = schema.get("required", [])
    problems = [f"{path}: missing required key {key!r}" for key in required if key not in data]
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in data.items():
        if key in properties:
            problems += validate(value, properties[key], f"{path}.{key}", root)
        elif extra is False:
            problems.append(f"{path}: unexpected key {key!r}")
        elif isinstance(extra, dict):
            problems += validate(value, extra, f"{path}.{key}", root)
    return problems


def _check_array(data: list, schema: dict[str, Any], path: str, root: Any) -> list[str]:
    problems = []
    if len(data) < schema.get("minItems", 0):
        problems.append(f"{path}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(data) > schema["maxItems"]:
        problems.append(f"{path}: more than {schema['maxItems']} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for index, value in enumerate(data):
            problems += validate(value, items, f"{path}[{index}]", root)
    return problems
