"""Fit a recorded model answer to the JSON schema a request has now.

kb's schemas change (claims gain fields, digests gain parts); a recorded answer was made
for the schema of its day. `adapt` keeps what the answer said and fills the rest the way
a model answering from the same content would, generically: a missing required string is
"", an array [], a boolean false, a number 0, an object filled from its own schema
(recursively), an enum or const its first allowed value. An optional field stays out, as
a model would leave it; keys the schema no longer has are dropped (unless it allows extra
keys). Nothing else is invented: the result is then validated like any reply, so a change
kb cannot absorb still fails.

    python -c "from tests.fakes.adapt import adapt; print(adapt({'a': 1, 'gone': 2}, \
        {'type': 'object', 'properties': {'a': {'type': 'integer'}, 'b': {'type': 'array'}}, \
         'required': ['a', 'b'], 'additionalProperties': False}))"
"""

from __future__ import annotations

from typing import Any

from kb.providers.base import validate

_EMPTY: dict[str, Any] = {"string": "", "array": [], "boolean": False, "integer": 0}
_EMPTY |= {"number": 0, "null": None}


def adapt(value: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """`value` reshaped to `schema`: missing properties filled, unknown ones dropped."""
    root = schema if root is None else root
    schema = _resolved(schema, root)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return _first_fit(value, variants, root)
    if isinstance(value, dict) and _is(schema, "object"):
        return _adapt_object(value, schema, root)
    if isinstance(value, list) and _is(schema, "array"):
        items = schema.get("items")
        return [adapt(v, items, root) for v in value] if isinstance(items, dict) else value
    return value


def empty(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """What a model says for a field it has nothing for: the schema's empty value."""
    root = schema if root is None else root
    schema = _resolved(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return empty(variants[0], root)
    kind = _types(schema)
    if "null" in kind:
        return None
    if (kind and kind[0] == "object") or "properties" in schema:
        required = set(schema.get("required", ()))
        props = schema.get("properties", {}).items()
        return {key: empty(sub, root) for key, sub in props if key in required}
    if kind and kind[0] == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [empty(items, root) for _ in range(schema.get("minItems", 0))]
    return _EMPTY.get(kind[0]) if kind else None


def _adapt_object(value: dict, schema: dict[str, Any], root: dict[str, Any]) -> dict:
    props, required = schema.get("properties", {}), set(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    out = {}
    for key, sub in props.items():
        if key in value:
            out[key] = adapt(value[key], sub, root)
        elif key in required:  # an optional field a model may leave out: left out
            out[key] = empty(sub, root)
    if extra is not False:
        rest = {k: v for k, v in value.items() if k not in props}
        if isinstance(extra, dict):
            rest = {k: adapt(v, extra, root) for k, v in rest.items()}
        out |= rest
    return out


def _first_fit(value: Any, variants: list[dict], root: dict[str, Any]) -> Any:
    for variant in variants:
        fitted = adapt(value, variant, root)
        if not validate(fitted, variant, "$", root):
            return fitted
    return value


def _resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 32:
        node: Any = root
        for key in schema["$ref"].removeprefix("#/").split("/"):
            node = node[key]
        schema, seen = node, seen + 1
    return schema


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if kind is None:
        return []
    return list(kind) if isinstance(kind, list) else [kind]


def _is(schema: dict[str, Any], kind: str) -> bool:
    types = _types(schema)
    return not types or kind in types
