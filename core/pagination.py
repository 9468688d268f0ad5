from base64 import b64decode, b64encode
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination, _positive_int

BIGINT_RANGE = range(-(2**63), 2**63)


class StableCursorPagination(CursorPagination):
    """Cursor pages: no COUNT(*) per request and stable under concurrent inserts.

    Views may order by any indexed field through `?ordering=`; the primary key
    breaks ties so a cursor never skips or repeats rows.

    A cursor records the ordering it was made under, and its position is
    checked against the type of the ordering's first column before any query:
    a tampered cursor, or one replayed under another `?ordering=`, is a 400
    naming `cursor` (DRF alone answers 404 for some and lets the database
    fail on others).
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 500
    # A lazy message, so the refusal is in the language of the request.
    invalid_cursor_message: Any = _(
        "Invalid cursor: use the next or previous link of a page as given."
    )
    mismatched_cursor_message = _(
        "This cursor was made for another ordering; start again from the first page."
    )

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in {"id", "pk"} for field in ordering):
            direction = "-" if ordering and ordering[0].startswith("-") else ""
            ordering.append(f"{direction}id")
        return tuple(ordering)

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def _refuse(self, message):
        raise ValidationError({self.cursor_query_param: [message]})

    def _ordering_key(self) -> str:
        return ",".join(self.ordering)

    def encode_cursor(self, cursor):
        tokens = {"k": self._ordering_key()}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        encoded = b64encode(parse.urlencode(tokens, doseq=True).encode("ascii")).decode("ascii")
        return self._replace_query_param(encoded)

    def _replace_query_param(self, encoded):
        from rest_framework.utils.urls import replace_query_param

        # base_url is set in paginate_queryset before any link is built.
        return replace_query_param(self.base_url or "", self.cursor_query_param, encoded)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            offset = _positive_int(tokens.get("o", ["0"])[0], cutoff=self.offset_cutoff)
            reverse = tokens.get("r", ["0"])[0]
            if reverse not in {"0", "1"}:
                raise ValueError(reverse)
            position = tokens.get("p", [None])[0]
        except (TypeError, ValueError):
            self._refuse(self.invalid_cursor_message)
        if tokens.get("k", [None])[0] != self._ordering_key():
            self._refuse(self.mismatched_cursor_message)
        if position is not None:
            self._check_position(position)
        # DRF's own cursors carry the position as the text from the URL, as here;
        # the stub's int is narrower than what CursorPagination does with it.
        return Cursor(offset=offset, reverse=reverse == "1", position=position)  # type: ignore[arg-type]

    def _check_position(self, position: str) -> None:
        if "\x00" in position:
            self._refuse(self.invalid_cursor_message)
        field = self._ordering_field()
        if field is None:
            return
        try:
            value = field.to_python(position)
        except (DjangoValidationError, TypeError, ValueError, OverflowError):
            self._refuse(self.invalid_cursor_message)
        if isinstance(value, int) and value not in BIGINT_RANGE:
            self._refuse(self.invalid_cursor_message)

    def _ordering_field(self):
        """The model field of the ordering's first column, following relations."""
        model = getattr(self, "_model", None)
        field = None
        for part in self.ordering[0].lstrip("-").split(LOOKUP_SEP):
            if model is None:
                return None
            try:
                field = model._meta.get_field("id" if part == "pk" else part)
            except FieldDoesNotExist:
                return None
            model = field.related_model
        return field
