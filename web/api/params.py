"""Request parameters as Mastodon clients send them, validated by one pydantic model per endpoint.

Clients send JSON bodies, form-encoded bodies and query strings alike, arrays as ``key[]``
and nested values as ``key[sub]``. ``@params(Model)`` merges them, validates, passes the model
to the view as ``params``, and registers the model with quart-schema so ``/openapi.json``
describes the endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, ValidationError
from quart import request
from quart_schema.validation import (
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
    DataSource,
)
from werkzeug.datastructures import MultiDict
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from services.errors import BadRequest, ValidationFailed

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)

_NESTED = re.compile(r"^([^\[\]]+)\[([^\[\]]*)\]$")


def _unflatten(pairs: MultiDict[str, str]) -> dict[str, Any]:
    """``a[]=1&a[]=2&s[privacy]=x&n=3`` -> ``{"a": ["1", "2"], "s": {"privacy": "x"}, "n": "3"}``"""
    result: dict[str, Any] = {}
    for key in pairs:
        values = pairs.getlist(key)
        match = _NESTED.match(key)
        if match is None:
            result[key] = values[-1]
        elif match.group(2) == "":
            result[match.group(1)] = values
        else:
            nested = result.setdefault(match.group(1), {})
            if isinstance(nested, dict):
                nested[match.group(2)] = values[-1]
    return result


# Bytes that are not UTF-8 are refused, as they are in JSON bodies (orjson refuses them): the
# stock parsers would keep them percent-encoded (query strings) or store U+FFFD (form bodies).


def _utf8(raw: bytes, where: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise BadRequest(f"The {where} is not valid UTF-8") from None


def _pairs(raw: bytes, where: str) -> MultiDict[str, str]:
    """``a=1&b=%C3%A9`` -> its pairs, percent-decoded, then decoded as UTF-8."""
    # Latin-1 maps each byte to one character and back, so parse_qsl percent-decodes without
    # interpreting (or replacing) any byte; UTF-8 is then checked on the bytes themselves.
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return MultiDict(
        (_utf8(key.encode("latin-1"), where), _utf8(value.encode("latin-1"), where))
        for key, value in pairs
    )


def _multipart_fields(raw: bytes) -> MultiDict[str, str]:
    """The text fields of a ``multipart/form-data`` body (files are ``request.files``)."""
    decoder = MultipartDecoder(request.mimetype_params.get("boundary", "").encode("latin-1"))
    fields: list[tuple[str, str]] = []
    name, chunks = None, []
    try:
        decoder.receive_data(raw)
        decoder.receive_data(None)
        while not isinstance(event := decoder.next_event(), Epilogue | NeedData):
            if isinstance(event, Field):
                name, chunks = event.name, []
            elif isinstance(event, File):
                name = None
            elif isinstance(event, Data) and name is not None:
                chunks.append(event.data)
                if not event.more_data:
                    fields.append((name, _utf8(b"".join(chunks), "request body")))
    except ValueError:
        raise BadRequest("The request body is not a valid multipart form") from None
    return MultiDict(fields)


def _declares_no_body() -> bool:
    """A GET or HEAD whose headers say nothing of a body (no length, no chunks, no type): there
    is nothing to wait for. Quart reads any body under a timeout (``asyncio.wait_for``: a task
    and a turn of the loop), about 2 % of a timeline read."""
    headers = request.headers
    return (
        request.method in ("GET", "HEAD")
        and not request.content_length
        and "Transfer-Encoding" not in headers
        and "Content-Type" not in headers
    )


async def request_data() -> dict[str, Any]:
    """Query string overlaid with the body, whichever way the body is encoded."""
    data = _unflatten(_pairs(request.query_string, "query string"))
    raw = b"" if _declares_no_body() else await request.get_data()
    if not raw.strip():
        return data
    mimetype = request.mimetype
    if mimetype == "application/json" or (not mimetype and raw.strip().startswith(b"{")):
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise BadRequest("The request body is not valid JSON") from None
        if body is None:  # some clients send a literal null for "no parameters"
            body = {}
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object")
        data.update(body)
    elif mimetype == "application/x-www-form-urlencoded":
        data.update(_unflatten(_pairs(raw, "request body")))
    elif mimetype == "multipart/form-data":
        data.update(_unflatten(_multipart_fields(raw)))
    else:
        raise BadRequest("The request body must be JSON or a form")
    return data


def validation_message(exc: ValidationError) -> tuple[str, dict[str, list[dict[str, str]]]]:
    """Mastodon-style: ``Validation failed: field message``, plus details per field."""
    details: dict[str, list[dict[str, str]]] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        details.setdefault(field, []).append({"error": error["type"], "description": error["msg"]})
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "body"
    return f"Validation failed: {field}: {first['msg']}", details


def _nul_fields(value: Any, path: str = "") -> list[str]:
    """The fields (dotted paths) whose text holds a NUL character."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found += _nul_fields(item, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list):
        return [field for item in value for field in _nul_fields(item, path)]
    return []


def parse(model: type[M], data: dict[str, Any]) -> M:
    # PostgreSQL cannot store NUL in text: refuse it here rather than fail in a query.
    if fields := _nul_fields(data):
        details = {
            field: [{"error": "ERR_INVALID", "description": "must not contain NUL characters"}]
            for field in fields
        }
        raise ValidationFailed(f"Validation failed: {fields[0]} contains a NUL character", details)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        message, details = validation_message(exc)
        raise ValidationFailed(message, details) from None


def params(
    model: type[M], *, query: bool = False
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Validate the merged request parameters into ``model`` and pass them as ``params``."""

    def decorator(view: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @wraps(view)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            kwargs["params"] = parse(model, await request_data())
            return await view(*args, **kwargs)

        if query:
            setattr(wrapper, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, model)
        else:
            setattr(wrapper, QUART_SCHEMA_REQUEST_ATTRIBUTE, (model, DataSource.JSON))
        return wrapper

    return decorator
