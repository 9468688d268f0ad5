"""Every error the API answers has one shape, and the schema declares each operation's errors."""

import jsonschema
import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from core.schema import ERROR_SCHEMA
from tests.factories.marketplace import pay, person_of, place
from tests.factories.publicdata import DepartmentFactory
from tests.marketplace.conftest import buyer, plan, product, seller  # noqa: F401

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "put", "patch", "delete"}


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    return body


def test_field_errors_name_each_field_with_its_code(operator_api):
    # when a department is registered with no name and a level that is not a choice
    response = operator_api.post(
        reverse("department-list"), {"code": "HN-X", "level": "galaxy"}, format="json"
    )
    # then one 400 lists each refused field with a code, and keeps the older per-field keys
    body = assert_error_shape(response, 400)
    by_field = {e["field"]: e["code"] for e in body["errors"]}
    assert by_field == {"name": "required", "level": "invalid_choice"}
    assert body["error_code"] == "invalid"
    assert body["name"]
    assert body["level"]


def test_a_refused_field_called_code_does_not_collide_with_the_error_code(operator_api):
    # given a department code in use
    DepartmentFactory(code="HN-GA")
    # when another department takes it
    response = operator_api.post(
        reverse("department-list"),
        {"code": "HN-GA", "name": "Again", "level": "province"},
        format="json",
    )
    # then the error's code is error_code, the field's message and code are in errors,
    # and the body has no top-level `code` to collide with the field
    body = assert_error_shape(response, 400)
    assert body["error_code"] == "unique"
    assert body["errors"] == [{"field": "code", "code": "unique", "message": body["detail"]}]
    assert "code" not in body


def test_not_signed_in_not_allowed_and_missing_have_the_same_shape(merchant_a_api):
    assert assert_error_shape(APIClient().get(reverse("order-list")), 401)["error_code"] == (
        "not_authenticated"
    )
    forbidden = merchant_a_api.post(
        reverse("department-list"), {"code": "X", "name": "X", "level": "city"}, format="json"
    )
    assert assert_error_shape(forbidden, 403)["error_code"] == "permission_denied"
    missing = merchant_a_api.get(reverse("order-detail", args=[987654]))
    assert assert_error_shape(missing, 404)["error_code"] == "not_found"


def test_a_conflict_keeps_its_context_without_a_top_level_code(api_client, buyer, plan):  # noqa: F811
    order = pay(place(buyer, plan))
    buyer_api = api_client(person_of(buyer))
    body = assert_error_shape(buyer_api.post(reverse("order-cancel", args=[order.pk]), {}), 409)
    assert body["error_code"] == "invalid_transition"
    assert "code" not in body
    assert body["current_status"] == "paid"
    assert body["errors"] == []


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _views_needing_a_role() -> set[tuple[str, str]]:
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    needing = set()
    for path, _regex, method, callback in generator.endpoints:
        view = generator.create_view(callback, method)
        permissions = view.get_permissions()
        if permissions and not all(isinstance(p, AllowAny) for p in permissions):
            needing.add((path, method.lower()))
    return needing


def test_every_operation_declares_its_errors_with_examples(schema):
    needing_a_role = _views_needing_a_role()
    assert len(needing_a_role) > 100
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = set()
            if method in WRITE_METHODS - {"delete"}:
                expected.add("400")
            if method in WRITE_METHODS:
                expected.add("409")
            if "{" in path:
                expected.add("404")
            if (path, method) in needing_a_role:
                expected |= {"401", "403"}
            missing = expected - set(responses)
            assert not missing, f"{method.upper()} {path} declares no {sorted(missing)}"
            for code in expected:
                content = responses[code].get("content", {})
                media = content.get("application/json") or next(iter(content.values()))
                assert media.get("examples") or media.get("example"), f"{method} {path} {code}"


def _error_examples(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if not code.startswith(("4", "5")):
                    continue
                for media in response.get("content", {}).values():
                    for name, example in (media.get("examples") or {}).items():
                        yield f"{method.upper()} {path} {code} {name}", code, example["value"]


def test_no_error_example_or_schema_has_a_top_level_code(schema):
    # the Error component no longer declares the deprecated key
    assert "code" not in schema["components"]["schemas"]["Error"]["properties"]
    examples = list(_error_examples(schema))
    assert len(examples) > 500
    for where, status, body in examples:
        # every example is the one shape, with no `code` beside error_code
        jsonschema.validate(body, ERROR_SCHEMA)
        assert "code" not in body, where
        if status == "400":
            # a 400 names each refused input with its own code
            assert body["errors"], where
            assert all({"field", "code", "message"} <= set(e) for e in body["errors"]), where


def test_throttled_operations_declare_their_429_with_an_example(schema):
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    throttled = {
        (path, method.lower())
        for path, _regex, method, callback in generator.endpoints
        if generator.create_view(callback, method).get_throttles()
    }
    assert throttled
    for path, method in throttled:
        declared = schema["paths"][path][method]["responses"]
        assert "429" in declared, f"{method.upper()} {path} declares no 429"
        content = declared["429"]["content"]
        media = next(m for name, m in content.items() if name.endswith("json"))
        assert media["examples"]["throttled"]["value"]["error_code"] == "throttled"


def test_a_bad_request_names_the_operation_s_fields(schema):
    bad = schema["paths"]["/api/v1/departments/"]["post"]["responses"]["400"]
    fields = bad["content"]["application/json"]["schema"]["allOf"][1]["properties"]
    assert {"name", "level"} <= set(fields)
    # a field called code is named, but refused in errors only: the body has no `code` key
    assert "code" not in fields
    assert "code" in bad["description"]


def test_stats_is_declared_as_the_object_it_answers(schema, operator_api):
    declared = schema["paths"]["/api/v1/stats/"]["get"]["responses"]["200"]
    assert declared["content"]["application/json"]["schema"].get("type") != "array"
    assert isinstance(operator_api.get("/api/v1/stats/").json(), dict)


# -- the schema declares what the answers really are ------------------------------------


def _component(schema, name):
    return schema["components"]["schemas"][name]["properties"]


def test_fields_that_answer_null_are_declared_nullable(schema):
    listing = _component(schema, "Product")
    assert listing["board"].get("nullable") is True  # a product outside every board
    assert listing["starting_price"].get("nullable") is True  # a product with no plan yet
    assert _component(schema, "Review")["decided_by"].get("nullable") is True
    assert _component(schema, "AuditRun")["requested_by"].get("nullable") is True


def test_a_blank_choice_is_declared_with_its_empty_value(schema):
    mode = _component(schema, "FeeSchedule")["delivery_mode"]
    assert {"type": "string", "enum": [""]} in mode["oneOf"]


def test_the_catalog_declares_its_errors_in_every_media_type_it_offers(schema):
    responses = schema["paths"]["/api/v1/catalog/dcat.jsonld"]["get"]["responses"]
    assert set(responses["400"]["content"]) == set(responses["200"]["content"])


def test_a_csv_download_refused_answers_the_json_error_labelled_json(operator_api):
    response = operator_api.get(
        "/api/v1/statements/", {"format": "csv", "from": "2026-02-01", "to": "2026-01-01"}
    )
    body = assert_error_shape(response, 400)
    assert response["Content-Type"].startswith("application/json")
    assert body["errors"]


def test_an_api_path_no_route_matches_is_the_json_404(operator_api):
    response = operator_api.put("/api/v1/boards/a%2Fb%20c/", {}, format="json")
    body = assert_error_shape(response, 404)
    assert body["error_code"] == "not_found"
    assert operator_api.get("/api/v1/no-such-things/").json()["error_code"] == "not_found"


def test_a_service_s_refusal_is_a_403_in_the_one_shape(operator_api):
    # an operator asking for an API key: the gateway service refuses (Django's PermissionDenied)
    response = operator_api.post("/api/v1/api-keys/", {}, format="json")
    assert assert_error_shape(response, 403)["error_code"] == "permission_denied"
