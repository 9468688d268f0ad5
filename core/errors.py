"""The one shape of every error the API answers, and how it is built.

Every 4xx body (and the 503 of a job queue that is away) is an object with

- ``detail``: one sentence a person reads;
- ``error_code``: what went wrong, for programs ("invalid", "not_found",
  "invalid_transition", "grant_in_force" ...);
- ``errors``: a list of ``{"field", "code", "message"}``, one per refused
  input (empty unless the answer is a 400 about fields);

and, for clients written before this shape (see docs/api.md, "Errors"), each
refused field's messages under the field's own name, as DRF answers, except a
field called ``code`` (products, departments and boards have one): its
messages are in ``errors`` only. There is no top-level ``code`` key: the
error's code is ``error_code``, each field's code is in ``errors``.

A 409 may add context of its own (``current_status``, ``requested_status``).
"""

from collections.abc import Iterator, Mapping
from typing import cast

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

#: error_code of a 400 about fields when no single code covers all of them.
INVALID = "invalid"

#: error_code per status for answers that are not about fields.
DEFAULT_CODES = {
    status.HTTP_400_BAD_REQUEST: INVALID,
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
    status.HTTP_503_SERVICE_UNAVAILABLE: "broker_unavailable",
}

INVALID_INPUT = _("The input was refused; see errors for each field.")

#: Keys of the shape itself; a refused field never takes their place.
RESERVED_KEYS = frozenset({"detail", "error_code", "errors"})

#: Keys an error body never has at its top level: `code` was the error's code
#: before `error_code` and collided with resources' own `code` fields.
NEVER_AT_TOP = frozenset({"code"})


def _flatten(messages, codes, path: str) -> Iterator[dict]:
    """Each message of a DRF error tree with its dotted field path and code."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            sub_codes = codes.get(key) if isinstance(codes, Mapping) else None
            yield from _flatten(value, sub_codes, f"{path}.{key}" if path else str(key))
    elif isinstance(messages, list | tuple):
        code_list = codes if isinstance(codes, list | tuple) else [codes] * len(messages)
        for index, value in enumerate(messages):
            sub_code = code_list[index] if index < len(code_list) else None
            if isinstance(value, Mapping | list | tuple):
                yield from _flatten(value, sub_code, f"{path}.{index}")
            else:
                yield {"field": path, "code": str(sub_code or INVALID), "message": str(value)}
    else:
        yield {"field": path, "code": str(codes or INVALID), "message": str(messages)}


def error_body(
    http_status: int,
    *,
    detail: str | None = None,
    error_code: str | None = None,
    field_errors: Mapping | None = None,
    field_codes: Mapping | None = None,
    extra: Mapping | None = None,
) -> dict:
    """The body of an error answer, in the API's one error shape."""
    field_errors = dict(field_errors or {})
    errors = list(_flatten(field_errors, field_codes or {}, ""))
    if error_code is None:
        codes = {item["code"] for item in errors}
        error_code = codes.pop() if len(codes) == 1 else DEFAULT_CODES.get(http_status, INVALID)
    if detail is None:
        detail = errors[0]["message"] if len(errors) == 1 else str(INVALID_INPUT)
    body: dict = {"detail": str(detail), "error_code": error_code, "errors": errors}
    for field, messages in field_errors.items():
        if field not in RESERVED_KEYS | NEVER_AT_TOP:
            body[field] = messages
    for key, value in (extra or {}).items():
        if key not in NEVER_AT_TOP:
            body.setdefault(key, value)
    return body


def body_from_api_exception(exc: exceptions.APIException, http_status: int) -> dict:
    """The error shape for any DRF exception (validation, auth, 404, throttling ...)."""
    detail, codes = exc.detail, exc.get_codes()
    if isinstance(exc, exceptions.ValidationError) or isinstance(detail, list | dict):
        if isinstance(detail, list):
            detail, codes = {"non_field_errors": detail}, {"non_field_errors": codes}
        # A list was wrapped above, so both are mappings of field to messages here.
        return error_body(
            http_status, field_errors=cast(dict, detail), field_codes=cast(dict, codes)
        )
    extra = {}
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        extra["wait"] = wait
    return error_body(http_status, detail=str(detail), error_code=str(codes), extra=extra)


def page_not_found(request, exception=None):
    """Django's 404 for a URL no route matches: under /api/ the JSON error, else the page.

    An API path with an id or code of the wrong form (`/boards/a%2Fb/`) matches
    no route, so DRF never sees it; integrators still get the one error shape.
    """
    from django.http import JsonResponse
    from django.views import defaults

    if request.path.startswith("/api/"):
        body = error_body(
            status.HTTP_404_NOT_FOUND, detail=str(_("No such record.")), error_code="not_found"
        )
        return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)
