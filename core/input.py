"""Malformed input refused once, at the edge, for every endpoint.

Two kinds of input break things deep inside rather than at a field's own
validation: a NUL character (PostgreSQL cannot store or even compare one, so a
lookup by slug or a search would fail with a database error), and JSON nested
so deep that the parser runs out of stack. Both are refused here, before any
view sees the request, with a 400 that names the field:

- `StrictJSONParser` (and the form parsers below) are DRF's default parsers;
  the token endpoint uses them too.
- `RefuseNulMiddleware` covers the URL path, the query string and headers, for
  the API and the admin alike.
- `json_loads_checked` is the same check for a view that reads the raw body
  itself (the payment channel's signed notification).
"""

import json
import re
from collections.abc import Iterator

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.errors import error_body
from core.exceptions import BusinessRuleViolation

#: Deeper than any body the exchange takes (its deepest is three levels), far
#: below the interpreter's recursion limit.
MAX_JSON_DEPTH = 32

NUL_REFUSED = _("NUL characters (\\u0000) are not allowed.")
TOO_DEEP = _("The JSON body is nested more than %(limit)d levels deep.")
NOT_JSON = _("The body is not valid JSON: %(reason)s")

# A JSON string literal, matched possessively so a long one costs one pass.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


class InputRefused(BusinessRuleViolation):
    """Input refused before parsing or validation (HTTP 400 naming `field`)."""


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `raw` opens more than `limit` arrays/objects inside each other.

    Counts brackets outside string literals without building anything, so
    the check itself cannot recurse, whatever the body holds.
    """
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _strings_with_paths(value, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            key_path = f"{path}.{key}" if path else str(key)
            yield key_path, str(key)
            yield from _strings_with_paths(item, key_path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings_with_paths(item, f"{path}.{index}" if path else str(index))


def refuse_nul(value, *, root: str = "non_field_errors") -> None:
    """Raise InputRefused naming the first field (dotted path) whose text holds a NUL."""
    for path, text in _strings_with_paths(value, ""):
        if "\x00" in text:
            raise InputRefused(NUL_REFUSED, field=path or root, code="null_characters")


def json_loads_checked(raw: bytes):
    """`json.loads` that refuses excessive nesting (before parsing) and NUL characters."""
    if json_depth_exceeds(raw):
        raise InputRefused(
            TOO_DEEP % {"limit": MAX_JSON_DEPTH}, field="non_field_errors", code="too_deep"
        )
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputRefused(
            NOT_JSON % {"reason": exc}, field="non_field_errors", code="parse_error"
        ) from exc
    refuse_nul(data)
    return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


class StrictJSONParser(parsers.JSONParser):
    """DRF's JSON parser with the depth and NUL checks of `json_loads_checked`."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw:
            raise ParseError(_("The JSON body is empty."))
        return json_loads_checked(raw)


class StrictFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(dict(data.lists()))
        return data


class StrictMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        refuse_nul(dict(result.data.lists()))
        return result


STRICT_PARSERS = [StrictJSONParser, StrictFormParser, StrictMultiPartParser]


class RefuseNulMiddleware:
    """A NUL in the path, a query parameter or a header is a 400 naming it.

    Query parameters reach filters, search and lookups that would pass the
    NUL on to PostgreSQL; refusing here covers every list of the API and the
    admin at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        field = self._field_with_nul(request)
        if field is not None:
            body = error_body(
                400,
                error_code="null_characters",
                field_errors={field: [str(NUL_REFUSED)]},
                field_codes={field: ["null_characters"]},
            )
            return JsonResponse(body, status=400)
        return self.get_response(request)

    @staticmethod
    def _field_with_nul(request) -> str | None:
        if "\x00" in request.path or "%00" in request.path_info:
            return "path"
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "")
        for name, value in request.headers.items():
            if "\x00" in value:
                return name
        return None


def max_text_length() -> int:
    """The longest free text any field takes (EXCHANGE_TEXT_MAX_LENGTH characters)."""
    return settings.EXCHANGE_TEXT_MAX_LENGTH
