"""Shared API pieces: the scoped viewset base, yuan fields and error mapping."""

import copy
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import body_from_api_exception, error_body
from core.exceptions import (
    BrokerUnavailable,
    BusinessRuleViolation,
    Conflict,
    InvalidTransition,
)
from core.input import max_text_length
from core.jobs import broker_errors
from core.money import MoneyError, fen_to_yuan, yuan_to_fen
from core.permissions import IsOperator
from core.prepared import PreparedLookup
from core.scoping import is_operator, merchant_id_of, scope_to_merchant, visible_to

#: The signed-in user of the API request being handled, for references that
#: only reach the caller's own records (IdRelatedField(own=True)). Set by
#: ScopedViewSetMixin for the length of one request.
REQUEST_USER: ContextVar[Any] = ContextVar("exchange_request_user", default=None)

if TYPE_CHECKING:
    # The mixins below are only ever mixed into DRF viewsets; telling mypy so
    # lets it check their use of request, get_object and the rest.
    from accounts.models import User

    _ViewSetBase = viewsets.GenericViewSet
else:
    _ViewSetBase = object


class ScopedViewSetMixin(_ViewSetBase):
    """Every list and detail goes through `scope_to_merchant`: one scoping rule for all."""

    #: The serializer of lists; every other action answers with `serializer_class`
    #: (the detail). Unset, lists use `serializer_class` too.
    list_serializer_class: type[serializers.BaseSerializer] | None = None
    #: prefetch_related lookups for every action but list: a detail's nested history.
    detail_prefetch: tuple[Any, ...] = ()
    #: Columns a list leaves in the table: long texts that only the detail shows.
    list_defer: tuple[str, ...] = ()

    def get_serializer_class(self):
        if self.action == "list" and self.list_serializer_class is not None:
            return self.list_serializer_class
        return super().get_serializer_class()

    def get_queryset(self):
        queryset = scope_to_merchant(super().get_queryset(), self.request.user)
        if self.action == "list":
            return queryset.defer(*self.list_defer) if self.list_defer else queryset
        return (
            queryset.prefetch_related(*self.detail_prefetch) if self.detail_prefetch else queryset
        )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._request_user_token = REQUEST_USER.set(request.user)
        self._refuse_records_out_of_scope(kwargs)

    def _refuse_records_out_of_scope(self, kwargs) -> None:
        """A write on a record the caller cannot see is a 404 before its input is read.

        Otherwise an action that checks its body first would answer another
        merchant's record with a 400 about the body, and a missing id the same
        way only by chance; the tenant's walls would depend on each handler's
        order of steps. Reads need nothing here: they fetch the record first.
        """
        if self.action is None or not self.detail or self.request.method in ("GET", "HEAD"):
            return
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field or "pk"
        if lookup_url_kwarg not in kwargs:
            return
        lookup = {self.lookup_field or "pk": kwargs[lookup_url_kwarg]}
        try:
            exists = self.get_queryset().filter(**lookup).exists()
        except (TypeError, ValueError, DjangoValidationError):
            exists = False
        if not exists:
            raise exceptions.NotFound()

    def finalize_response(self, request, response, *args, **kwargs):
        token = self.__dict__.pop("_request_user_token", None)
        if token is not None:
            REQUEST_USER.reset(token)
        return super().finalize_response(request, response, *args, **kwargs)

    def request_actor(self) -> "User":
        """The signed-in user, typed as the services take their `actor`.

        HasExchangeRole is every viewset's default permission, so an anonymous
        request is refused before any handler asks for its actor.
        """
        return cast("User", self.request.user)

    def check_operator(self, request) -> None:
        """Refuse (403) an operator action to anyone but an exchange operator."""
        if not IsOperator().has_permission(request, self):
            self.permission_denied(request, message=str(IsOperator.message))

    def operator_action(self, request, service, *, target: str, input_class=None):
        """An operator's action on the record in the URL: role, input, then the service.

        `target` is the service's keyword for the record (merchant=, grant=, ...);
        the input defaults to a required reason. Returns what the service returns.
        """
        self.check_operator(request)
        record = self.get_object()
        data = (input_class or ReasonInputSerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        return service(actor=request.user, **{target: record}, **data.validated_data)


class _ServiceWriteBase(_ViewSetBase):
    """What the service-backed create and update share: the answer's serializer."""

    if TYPE_CHECKING:
        # ScopedViewSetMixin provides it in every viewset these mixins join.
        def check_operator(self, request) -> None: ...

    #: Serializer class the answer is written with.
    service_output: Any = None

    def service_result(self, obj):
        """The object the answer shows; override to read it afresh (prefetches, say)."""
        return obj

    def _service_answer(self, obj, code=status.HTTP_200_OK):
        return Response(self.service_output(self.service_result(obj)).data, status=code)


def _service(view, name):
    # Read off the class: a plain function set as a class attribute would
    # otherwise come back bound to the view, with the view as first argument.
    return getattr(type(view), name)


class ServiceCreateMixin(_ServiceWriteBase):
    """POST: validate `create_input`, call `create_service(actor=user, **validated)`, 201.

    Operators only unless `create_operators_only` is False. The OpenAPI entry
    (request, 201 response, `create_description`) is derived from these
    attributes when the class is made, so it cannot drift from the code.
    """

    create_input: Any = None
    create_service: Any = None
    create_operators_only = True
    create_description: Any = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.create_input is not None:
            extend_schema_view(
                create=extend_schema(
                    request=cls.create_input,
                    responses={201: cls.service_output},
                    description=cls.create_description,
                )
            )(cls)

    # No docstring: the schema takes its description from create_description
    # or, failing that, from the viewset's own docstring.
    def create(self, request, *args, **kwargs):
        if self.create_operators_only:
            self.check_operator(request)
        data = self.create_input(data=request.data)
        data.is_valid(raise_exception=True)
        obj = _service(self, "create_service")(actor=request.user, **data.validated_data)
        return self._service_answer(obj, status.HTTP_201_CREATED)


class ServiceUpdateMixin(_ServiceWriteBase):
    """PATCH: validate `update_input` partially, call
    `update_service(actor=user, <update_target>=obj, **validated)`, 200.

    Operators only unless `update_operators_only` is False; the object comes
    from `get_object()`, so a row outside the caller's scope is a 404. The
    OpenAPI entry is derived from the attributes, as for ServiceCreateMixin.
    """

    update_input: Any = None
    update_service: Any = None
    #: Keyword under which the object goes to the update service ("department").
    update_target: Any = None
    update_operators_only = True
    update_description: Any = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.update_input is not None:
            extend_schema_view(
                partial_update=extend_schema(
                    request=cls.update_input,
                    responses=cls.service_output,
                    description=cls.update_description,
                )
            )(cls)

    # No docstring, for the same reason as ServiceCreateMixin.create.
    def partial_update(self, request, *args, **kwargs):
        if self.update_operators_only:
            self.check_operator(request)
        obj = self.get_object()
        data = self.update_input(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        obj = _service(self, "update_service")(
            actor=request.user, **{self.update_target: obj}, **data.validated_data
        )
        return self._service_answer(obj)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


@extend_schema_field({"type": "string", "format": "decimal", "example": "12.34"})
class YuanField(serializers.Field):
    """Money in yuan as a decimal string ("12.34") outside, integer fen inside."""

    default_error_messages = {"invalid": "{reason}", "negative": "Must not be negative."}

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_representation(self, value):
        return None if value is None else fen_to_yuan(value)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            # A JSON number is refused too: 12.30 and 12.3 are one float, and
            # a float is not an exact amount.
            self.fail("invalid", reason='Give the amount as a decimal string such as "12.34".')
        try:
            fen = yuan_to_fen(data)
        except MoneyError as exc:
            self.fail("invalid", reason=str(exc))
        if fen < 0 and not self.allow_negative:
            self.fail("negative")
        return fen


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference to a row by its integer id; 61.9, "61.9", true and "61" with spaces are refused.

    DRF's own field hands the value to the database, which truncates 61.9 to 61.

    `own=True`: the row must be one the caller may name (core.scoping.visible_to:
    their own, or published to every merchant), so another merchant's record is
    refused exactly like an id that does not exist, and the answer tells
    nothing about which ids exist.

    `prepared`: with `own=True`, the same read for a merchant's person as SQL
    compiled once (core.prepared), taking (merchant id, id): the field's
    queryset narrowed by core.scoping.visible_to_merchant, filtered by pk.
    """

    default_error_messages = {
        "incorrect_type": _("Give the id as a whole number, not {data_type}."),
    }

    def __init__(self, *, own: bool = False, prepared: PreparedLookup | None = None, **kwargs):
        self.own = own
        self.prepared = prepared
        super().__init__(**kwargs)

    def _caller(self):
        request = self.context.get("request")
        return getattr(request, "user", None) or REQUEST_USER.get()

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.own:
            return queryset
        user = self._caller()
        if user is None or queryset is None:
            # No caller known (a service or a task validating): nothing to narrow by;
            # the services check ownership themselves.
            return queryset
        return visible_to(queryset, user)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str):
            if not data.isascii() or not data.isdigit():
                self.fail("incorrect_type", data_type="text")
            data = int(data)
        if not 0 < data < 2**63:
            self.fail("does_not_exist", pk_value=data)
        if self.prepared is not None and self.own:
            user = self._caller()
            merchant_id = merchant_id_of(user)
            if merchant_id is not None and not is_operator(user):
                found = self.prepared.rows(merchant_id, data)
                if not found:
                    self.fail("does_not_exist", pk_value=data)
                return found[0]
        return super().to_internal_value(data)


class BoundedTextField(serializers.CharField):
    """Free text with the exchange's length limit (EXCHANGE_TEXT_MAX_LENGTH) unless one is given."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", max_text_length())
        super().__init__(**kwargs)


class ReasonField(serializers.CharField):
    """A reason a person wrote: JSON text only. DRF's CharField would take 1 as "1".

    `{"reason": 1}` is a client sending the wrong field (an id where the text
    goes), not a reason; it is refused naming the field.
    """

    default_error_messages = {"not_text": _("Write the reason as text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class ReasonInputSerializer(serializers.Serializer):
    reason = ReasonField(max_length=2000, help_text="Why the action is taken.")


class OptionalReasonInputSerializer(serializers.Serializer):
    reason = ReasonField(max_length=2000, required=False, allow_blank=True, default="")


def _answer_errors_in_json(context) -> None:
    """An error of a CSV download is the JSON error object, labelled as JSON.

    Renderers that write errors in their own media type (the catalog's Turtle
    and HTML) are left alone; a CSV renderer would label a JSON body text/csv.
    """
    request = context.get("request")
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is not None and getattr(renderer, "media_type", "").startswith("text/csv"):
        from rest_framework.renderers import JSONRenderer

        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def exception_handler(exc, context):
    """Map domain errors to 4xx answers that name the field and the reason, in one shape.

    The shape is core/errors.py's; docs/api.md ("Errors") describes it.
    """
    _answer_errors_in_json(context)
    if isinstance(exc, broker_errors()):
        # A publish outside core.jobs met a broker that is away: the same 503.
        exc = BrokerUnavailable()
    if isinstance(exc, BrokerUnavailable):
        return broker_unavailable_response(exc)
    if isinstance(exc, InvalidTransition):
        body = error_body(
            status.HTTP_409_CONFLICT,
            detail=exc.detail,
            error_code="invalid_transition",
            extra={"current_status": exc.current, "requested_status": exc.target},
        )
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Conflict):
        body = error_body(
            status.HTTP_409_CONFLICT, detail=exc.message, error_code=exc.code, extra=exc.extra
        )
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, BusinessRuleViolation):
        body = error_body(
            status.HTTP_400_BAD_REQUEST,
            error_code=exc.code,
            field_errors={exc.field: [exc.message]},
            field_codes={exc.field: [exc.code]},
        )
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        else:
            data = {"non_field_errors": [str(m) for m in exc.messages]}
        exc = exceptions.ValidationError(data)
    if isinstance(exc, IntegrityError):
        # A unique or check constraint caught a race the service's checks
        # could not see; the request changed nothing, so it is a conflict.
        body = error_body(
            status.HTTP_409_CONFLICT,
            detail=str(_("The request conflicts with existing data.")),
            error_code="integrity_error",
        )
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        # a service's refusal: DRF would answer it, but outside the one shape
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = body_from_api_exception(exc, response.status_code)
    return response


def broker_unavailable_response(exc: BrokerUnavailable) -> Response:
    """503 with Retry-After: the job queue is away and nothing was recorded."""
    from django.conf import settings

    body = error_body(
        status.HTTP_503_SERVICE_UNAVAILABLE, detail=exc.message, error_code="broker_unavailable"
    )
    response = Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(settings.EXCHANGE_BROKER_RETRY_AFTER_SECONDS)
    return response


def _field_copy(field: serializers.Field) -> serializers.Field:
    """A shallow copy of a built field: what copy.copy gives, without its pickling protocol."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class FieldsBuiltOnceMixin:
    """Builds a serializer's fields once per class and language; each instance gets copies.

    DRF builds them again for every instance it serializes (every order placed
    or shown): a ModelSerializer reads the model's fields and their verbose
    names, about 2.8 ms for an order's detail against 0.5 ms for a copy, and a
    plain Serializer deep-copies its declared fields, rebuilding each from its
    arguments (a related field's queryset cloned). What is built depends on
    the class's declarations and the language of the labels and choices alone.
    Not for a serializer whose get_fields depends on its context or instance.

    A plain field is copied shallowly: binding it to its serializer sets only
    attributes of its own (name, parent, label, source), and nothing changes
    its options afterwards, whereas DRF's deep copy rebuilds it from its
    arguments, choices and querysets included (a related field clones its
    queryset with .all() on every use anyway). Nested serializers, which bind
    fields of their own, are still copied deeply.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built")
        if built is None:
            built = {}
            cls._fields_built = built  # type: ignore[attr-defined]
        language = translation.get_language()
        if language not in built:
            built[language] = super().get_fields()  # type: ignore[misc]
        return {
            name: copy.deepcopy(field)
            if isinstance(field, serializers.BaseSerializer)
            else _field_copy(field)
            for name, field in built[language].items()
        }


class FieldsBuiltOnceModelSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A ModelSerializer whose fields are built once (FieldsBuiltOnceMixin)."""


class FieldsBuiltOnceSerializer(FieldsBuiltOnceMixin, serializers.Serializer):
    """A Serializer whose declared fields are copied shallowly (FieldsBuiltOnceMixin)."""
