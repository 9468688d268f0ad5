"""The OpenAPI schema's view of every operation's errors, derived from the operation itself.

`ExchangeAutoSchema` adds to each operation the 4xx answers it can give, in
the one error shape of core/errors.py, with an example each: 400 when it
takes a body or query parameters (naming those fields), 401 and 403 when it
needs a signed-in role, 404 when its path names a record, 409 when it writes,
429 when it is throttled. Answers a view declares itself are left as they are.
"""

from collections.abc import Mapping
from typing import cast

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.errors import NEVER_AT_TOP, RESERVED_KEYS, error_body

ERROR_COMPONENT = "Error"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer of the API has this shape (docs/api.md, Errors).",
    "properties": {
        "detail": {"type": "string", "description": "One sentence a person reads."},
        "error_code": {
            "type": "string",
            "description": "What went wrong, for programs: invalid, not_found, "
            "invalid_transition, grant_in_force ...",
        },
        "errors": {
            "type": "array",
            "description": "One entry per refused input; empty unless the answer is about fields.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "description": "Dotted path of the input."},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["detail", "error_code", "errors"],
    # Older clients read each refused field's messages under the field's name
    # (never under `code`, which the body does not have: see errors for that field),
    # and a 409 may carry context (current_status, requested_status).
    "additionalProperties": True,
}

#: Fields whose errors DRF gives as nested objects or lists, not a list of strings.
_NESTED_FIELDS = (
    serializers.BaseSerializer,
    serializers.ListField,
    serializers.DictField,
    serializers.HStoreField,
    serializers.JSONField,
    serializers.ManyRelatedField,
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _example(name: str, summary: str, body: dict) -> dict:
    return {name: {"summary": summary, "value": body}}


def _model_field(field: serializers.Field):
    """The model field a serializer field reads, through related models; None if unknown.

    Also whether any foreign key on the way may be empty (`board.code` of a
    product outside every board is None although `code` itself is not null).
    """
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or source == "*":
        return None, False
    model_field = None
    nullable_on_the_way = False
    for part in source.split("."):
        if model is None:
            return None, False
        try:
            model_field = model._meta.get_field(part)
        except Exception:  # a property or method: nothing known about it
            return None, False
        if model_field.is_relation and model_field.null:
            nullable_on_the_way = True
        model = getattr(model_field, "related_model", None)
    return model_field, nullable_on_the_way


class ExchangeAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """Declare what read-only fields really answer: null and "" where the model allows them.

        drf-spectacular takes nullability and blank choices from `allow_null` and
        `allow_blank`, which read-only fields do not carry; the model knows.
        """
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if not field.read_only or not isinstance(schema, dict):
            return schema
        model_field, nullable_on_the_way = _model_field(field)
        nullable = field.default is None or (
            model_field is not None and (getattr(model_field, "null", False) or nullable_on_the_way)
        )
        if nullable and not schema.get("nullable"):
            if "$ref" in schema:
                # OpenAPI 3.0 ignores the siblings of a $ref
                schema = {"allOf": [schema], "nullable": True}
            else:
                schema["nullable"] = True
        if model_field is None:
            return schema
        if (
            getattr(model_field, "blank", False)
            and not model_field.is_relation
            and getattr(model_field, "choices", None)
            and "oneOf" not in schema
        ):
            described = {k: v for k, v in schema.items() if k not in ("allOf", "enum")}
            choice = {k: v for k, v in schema.items() if k in ("allOf", "enum", "type")}
            schema = {
                **described,
                "oneOf": [choice, {"type": "string", "enum": [""]}],
            }
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if field.read_only and schema.get("format") in ("email", "uri"):
            model_field, _nullable = _model_field(field)
            if getattr(model_field, "blank", False):
                # an address left empty is "", which no email or uri format accepts
                schema.pop("format")

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self._register_error_component()
        responses = operation.setdefault("responses", {})
        media_types = sorted(
            {
                media_type
                for code, response in responses.items()
                if code.startswith("2")
                for media_type in response.get("content", {})
            }
        )
        # Errors come in the negotiated media type where the operation renders them
        # itself (the catalog's JSON-LD, Turtle and HTML), in JSON otherwise: a CSV
        # download's error is JSON (core.api.exception_handler).
        error_types = [m for m in media_types if not m.startswith("text/csv")]
        if not any(m.endswith("json") for m in error_types):
            error_types.append("application/json")
        self._error_media_types = sorted(error_types)
        errors = self._error_responses(path, operation)
        if len(media_types) > 1:
            errors["406"] = self._plain(
                406,
                "None of the media types in Accept is offered: " + ", ".join(media_types) + ".",
                "not_acceptable",
                "Could not satisfy the request Accept header.",
            )
        for code, response in errors.items():
            responses.setdefault(code, response)
        return operation

    def _register_error_component(self) -> None:
        component = ResolvedComponent(
            name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, object=ERROR_COMPONENT
        )
        component.schema = ERROR_SCHEMA
        self.registry.register_on_missing(component)

    def _needs_role(self) -> bool:
        permissions = self.view.get_permissions()
        return bool(permissions) and not all(isinstance(p, AllowAny) for p in permissions)

    def _request_fields(self) -> list[tuple[str, serializers.Field]]:
        if self.method not in BODY_METHODS:
            return []
        serializer = self.get_request_serializer()
        if isinstance(serializer, dict):
            serializer = next(iter(serializer.values()), None)
        serializer = force_instance(serializer)
        if not is_serializer(serializer) or not hasattr(serializer, "fields"):
            return []
        # A cached property at run time; the stubs see the function behind it.
        fields = cast(Mapping[str, serializers.Field], serializer.fields)
        return [(name, f) for name, f in fields.items() if not f.read_only]

    def _error_responses(self, path: str, operation: dict) -> dict:
        method = self.method
        parameters = operation.get("parameters", [])
        query = [p["name"] for p in parameters if p["in"] in ("query", "header")]
        answers: dict = {}
        fields = self._request_fields()
        if method in BODY_METHODS or query:
            answers["400"] = self._bad_request(fields, query)
        if self._needs_role():
            answers["401"] = self._plain(
                401,
                "Not signed in, or the token is not valid.",
                "not_authenticated",
                "Authentication credentials were not provided.",
            )
            answers["403"] = self._plain(
                403,
                "The caller's role may not do this.",
                "permission_denied",
                "You do not have permission to perform this action.",
            )
        if "{" in path:
            answers["404"] = self._plain(
                404,
                "No such record, or it belongs to another merchant.",
                "not_found",
                "No such record.",
            )
        if method in WRITE_METHODS:
            answers["409"] = self._conflict()
        if "202" in operation.get("responses", {}):
            # 202 means "queued for a worker": with the broker away it is a
            # 503 instead, and nothing is recorded (core.jobs).
            answers["503"] = self._plain(
                503,
                "The job queue cannot be reached; nothing was recorded. "
                "Try again after the seconds in Retry-After.",
                "broker_unavailable",
                "The job queue cannot be reached just now; try again shortly.",
            )
            answers["503"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
            }
        if self.view.get_throttles():
            answers["429"] = self._plain(
                429,
                "Too many requests; wait the seconds in Retry-After.",
                "throttled",
                "Request was throttled. Expected available in 60 seconds.",
            )
        return answers

    def _content(self, schema: dict, examples: dict) -> dict:
        content = {}
        for media_type in self._error_media_types:
            if media_type.endswith("json"):
                content[media_type] = {"schema": schema, "examples": examples}
            else:
                content[media_type] = {
                    "schema": {
                        "type": "string",
                        "description": "The error object of application/json, written "
                        "in this media type (a comment block in Turtle, a page in HTML).",
                    }
                }
        return content

    def _plain(self, http_status, description, error_code, detail) -> dict:
        body = error_body(http_status, detail=detail, error_code=error_code)
        return {
            "description": description,
            "content": self._content(
                {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"},
                _example(error_code, description, body),
            ),
        }

    def _bad_request(self, fields, query) -> dict:
        properties = {}
        for name, field in fields:
            if name in RESERVED_KEYS | NEVER_AT_TOP:
                # a field called `code` is refused in `errors` only (core.errors)
                continue
            refusal: dict[str, object] = {
                "description": f"Why {name} was refused (older clients; see errors)."
            }
            if not isinstance(field, _NESTED_FIELDS):
                refusal.update(type="array", items={"type": "string"})
            properties[name] = refusal
        names = [name for name, _field in fields] + query
        examples = {}
        if names:
            required = next((n for n, f in fields if f.required), names[0])
            examples.update(
                _example(
                    "field",
                    f"{required} refused",
                    error_body(
                        400,
                        field_errors={required: ["This field is required."]},
                        field_codes={required: ["required"]},
                    ),
                )
            )
        examples.update(
            _example(
                "rule",
                "a rule of the exchange refused the request",
                error_body(
                    400,
                    error_code="invalid",
                    field_errors={"non_field_errors": ["The input breaks a rule."]},
                    field_codes={"non_field_errors": ["invalid"]},
                ),
            )
        )
        schema: dict = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
        if properties:
            schema = {"allOf": [schema, {"type": "object", "properties": properties}]}
        description = "The input was refused. Fields that can be named: {fields}.".format(
            fields=", ".join(names) or "non_field_errors",
        )
        return {"description": description, "content": self._content(schema, examples)}

    def _conflict(self) -> dict:
        examples = {}
        examples.update(
            _example(
                "invalid_transition",
                "the record's status does not allow this move",
                error_body(
                    409,
                    detail="Order cannot move from 'accepted' to 'delivered'.",
                    error_code="invalid_transition",
                    extra={"current_status": "accepted", "requested_status": "delivered"},
                ),
            )
        )
        examples.update(
            _example(
                "conflict",
                "another record stands in the way",
                error_body(
                    409,
                    detail="The request conflicts with existing data.",
                    error_code="integrity_error",
                ),
            )
        )
        description = (
            "The request collides with the record's status (error_code invalid_transition, "
            "with current_status and requested_status) or with another record (error_code "
            "names the rule: integrity_error, grant_in_force, idempotency_key_reused ...)."
        )
        return {
            "description": description,
            "content": self._content({"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}, examples),
        }
