"""Dust's error envelope and zod-style body parsing, shared by the documents and tables emulators.

Dust validates every public request body with zod and answers refusals in one envelope
(`apiError`); both live here once so each emulated endpoint reports issues the same way.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sandbox.common import Reply, Request

_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
MISSING = object()
"""A key absent from the body (zod's `undefined`), as opposed to an explicit null."""


class DustError(Exception):
    """A request Dust refuses; `reply` is the error answer it gives (status and envelope)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.body)
        self.reply = reply


def error_reply(status: int, error_type: str, message: str, **extra: Any) -> Reply:
    """Dust's error envelope (`apiError` in front/logger/withlogging.ts)."""
    return Reply(status, {"error": {"type": error_type, "message": message, **extra}})


def reject(status: int, error_type: str, message: str, **extra: Any) -> DustError:
    """The exception a handler raises to answer with that error."""
    return DustError(error_reply(status, error_type, message, **extra))


def page_params(request: Request) -> tuple[int, int]:
    """A list's `limit` (default 10) and `offset`, refused as Dust refuses bad ones."""
    try:
        limit = int(request.param("limit") or 10)
        offset = int(request.param("offset") or 0)
    except ValueError:
        limit = offset = -1
    if limit < 0 or offset < 0:
        raise reject(400, "invalid_request_error", "Invalid `limit` or `offset`.")
    return limit, offset


def zod_type(value: Any) -> str:
    """The type name zod prints after `received`."""
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class Issues:
    """Collects zod issues and renders them the way zod-validation-error does."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: tuple[str | int, ...], message: str) -> None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        self.messages.append(f'{message} at "{where}"' if where else message)

    def expect(self, path: tuple[str | int, ...], expected: str, value: Any) -> None:
        received = zod_type(value)
        self.add(
            path,
            "Required" if received == "undefined" else f"Expected {expected}, received {received}",
        )

    def text(self) -> str:
        return "Validation error: " + "; ".join(self.messages)


def is_number(value: Any) -> bool:
    """Like zod's `z.number()`: a finite JSON number, never a boolean."""
    return zod_type(value) == "number"


def check_strings(value: Any, path: tuple[str | int, ...], issues: Issues) -> list[str] | None:
    """Like zod's `z.array(z.string())`; None when the value is no array at all."""
    if not isinstance(value, list):
        issues.expect(path, "array", value)
        return None
    for index, item in enumerate(value):
        if not isinstance(item, str):
            issues.expect((*path, index), "string", item)
    return list(value)


def _reject_constant(name: str) -> float:
    """JSON.parse knows no NaN or Infinity literals."""
    raise ValueError(name)


def _well_formed(value: Any) -> Any:
    """Replace lone surrogates (valid in JS strings, not in UTF-8) with U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_well_formed(v) for v in value]
    if isinstance(value, dict):
        return {_well_formed(k): _well_formed(v) for k, v in value.items()}
    return value


def parse_json(raw: bytes) -> Any:
    """Decode a body like Next's parser: empty means `{}`.

    Raises:
        DustError: the 400 for malformed JSON.
    """
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        raise reject(
            400, "invalid_request_error", "Invalid request body: Malformed JSON in request body"
        ) from None
    return _well_formed(body) if _ESCAPED_SURROGATE.search(raw) else body
