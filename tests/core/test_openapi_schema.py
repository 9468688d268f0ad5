from django.core.management import call_command


def test_schema_is_valid_openapi_without_warnings(tmp_path):
    # when the schema is generated, validated against the OpenAPI spec, warnings fatal
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    # then every route is documented
    text = out.read_text()
    for route in ("/api/v1/merchants/", "/api/v1/products/", "/api/v1/orders/"):
        assert route in text
