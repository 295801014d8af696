"""A compiled yes/no check for the common JSON Schema keywords, in front of jsonschema.

Strict validation checks every tool call's parameters against its schema; jsonschema's
validator walks the schema anew for each instance and was a tenth of a run's CPU. Almost
every instance is valid, so :func:`compile_check` turns a schema into nested closures that
only answer "valid?" for the keywords tool schemas use (``type``, ``enum``, ``const``,
``properties``, ``required``, ``additionalProperties``, ``items``, ``anyOf`` / ``allOf`` /
``oneOf``, bounds, ``pattern``), with Draft 2020-12's meaning (``integer`` takes ``1.0``;
booleans are not numbers). A schema with any other keyword gets no check (``None``).

The check may say "not valid" where jsonschema finds nothing to report (it is strict
about ``required`` and unusual enum values): the caller then asks jsonschema, whose
messages are the ones shown. It never says "valid" where jsonschema finds an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["Check", "compile_check"]

Check = Callable[[Any], bool]

#: Keywords that assert nothing.
_ANNOTATIONS: Final = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
_TYPES: Final[dict[str, Check]] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}
_SCALARS: Final = (str, int, float, bool, type(None))


class _Unsupported(Exception):
    """A keyword or form this module does not compile."""


def compile_check(schema: Any, *, root_required: bool = False) -> Check | None:
    """A function that returns True only for instances ``schema`` accepts, or ``None``
    when the schema uses a keyword this module does not know. ``root_required=False``
    ignores the top level's ``required`` (the caller reports missing keys itself)."""
    try:
        return _compile(schema, required=root_required)
    except _Unsupported:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compile(schema: Any, *, required: bool = True) -> Check:
    if schema is True:
        return lambda _: True
    if schema is False:
        return lambda _: False
    if not isinstance(schema, Mapping):
        raise _Unsupported
    checks: list[Check] = []
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        maker = _KEYWORDS.get(key)
        if maker is None:
            raise _Unsupported
        if key == "required" and not required:
            continue
        checks.append(maker(value, schema))
    return _every(checks)


def _every(checks: list[Check]) -> Check:
    """All of ``checks`` (closures for the usual one to three: no generator per call)."""
    if not checks:
        return lambda _: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda v: a(v) and b(v)
    if len(checks) == 3:
        a, b, c = checks
        return lambda v: a(v) and b(v) and c(v)
    return lambda v: all(check(v) for check in checks)


def _type(value: Any, _: Mapping[str, Any]) -> Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or any(n not in _TYPES for n in names):
        raise _Unsupported
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _members(values: list[Any]) -> frozenset[tuple[type, Any]]:
    """(type, value) of each scalar: ``1`` and ``True`` stay apart, as in JSON Schema. A
    non-scalar instance never matches (the caller asks jsonschema)."""
    return frozenset((type(e), e) for e in values if isinstance(e, _SCALARS))


def _enum(value: Any, _: Mapping[str, Any]) -> Check:
    if not isinstance(value, list):
        raise _Unsupported
    members = _members(value)
    return lambda v: isinstance(v, _SCALARS) and (type(v), v) in members


def _const(value: Any, _: Mapping[str, Any]) -> Check:
    return _enum([value], _)


def _properties(value: Any, _: Mapping[str, Any]) -> Check:
    if not isinstance(value, Mapping):
        raise _Unsupported
    subs = [(name, _compile(sub)) for name, sub in value.items()]

    def check(v: Any) -> bool:
        if isinstance(v, dict):
            for name, sub in subs:
                if name in v and not sub(v[name]):
                    return False
        return True

    return check


def _required(value: Any, _: Mapping[str, Any]) -> Check:
    if not isinstance(value, list):
        raise _Unsupported
    names = tuple(value)
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _additional(value: Any, schema: Mapping[str, Any]) -> Check:
    props = schema.get("properties", {})
    if "patternProperties" in schema or not isinstance(props, Mapping):
        raise _Unsupported
    known = frozenset(props)
    sub = _compile(value)
    return lambda v: (
        not isinstance(v, dict) or all(sub(item) for name, item in v.items() if name not in known)
    )


def _items(value: Any, schema: Mapping[str, Any]) -> Check:
    if "prefixItems" in schema or isinstance(value, list):
        raise _Unsupported
    sub = _compile(value)
    return lambda v: not isinstance(v, list) or all(sub(item) for item in v)


def _any_of(value: Any, _: Mapping[str, Any]) -> Check:
    subs = _subschemas(value)
    return lambda v: any(sub(v) for sub in subs)


def _all_of(value: Any, _: Mapping[str, Any]) -> Check:
    subs = _subschemas(value)
    return lambda v: all(sub(v) for sub in subs)


def _one_of(value: Any, _: Mapping[str, Any]) -> Check:
    subs = _subschemas(value)
    return lambda v: sum(1 for sub in subs if sub(v)) == 1


def _subschemas(value: Any) -> list[Check]:
    if not isinstance(value, list) or not value:
        raise _Unsupported
    return [_compile(sub) for sub in value]


def _bound(test: Callable[[Any, Any], bool], applies: Check) -> Callable[..., Check]:
    def maker(limit: Any, _: Mapping[str, Any]) -> Check:
        if not _is_number(limit):
            raise _Unsupported
        return lambda v: not applies(v) or test(v, limit)

    return maker


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_list(v: Any) -> bool:
    return isinstance(v, list)


def _pattern(value: Any, _: Mapping[str, Any]) -> Check:
    if not isinstance(value, str):
        raise _Unsupported
    try:
        compiled = re.compile(value)
    except re.error:
        raise _Unsupported from None
    return lambda v: not isinstance(v, str) or compiled.search(v) is not None


_KEYWORDS: Final[dict[str, Callable[[Any, Mapping[str, Any]], Check]]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional,
    "items": _items,
    "anyOf": _any_of,
    "allOf": _all_of,
    "oneOf": _one_of,
    "minimum": _bound(lambda v, n: v >= n, _is_number),
    "maximum": _bound(lambda v, n: v <= n, _is_number),
    "exclusiveMinimum": _bound(lambda v, n: v > n, _is_number),
    "exclusiveMaximum": _bound(lambda v, n: v < n, _is_number),
    "minLength": _bound(lambda v, n: len(v) >= n, _is_str),
    "maxLength": _bound(lambda v, n: len(v) <= n, _is_str),
    "minItems": _bound(lambda v, n: len(v) >= n, _is_list),
    "maxItems": _bound(lambda v, n: len(v) <= n, _is_list),
    "pattern": _pattern,
}
