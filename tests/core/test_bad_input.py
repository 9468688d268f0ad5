"""Input that once answered 500 now answers 400 naming the field and the reason.

Each case here was a 5xx found from the outside (issue 16); the fixes sit in
core (core/input.py, core/money.py, core/pagination.py, core/api.py), so the
tests hit several endpoints to show the one mechanism covers them all.
"""

import json
from base64 import b64encode
from urllib.parse import quote, unquote

import pytest
from django.urls import reverse

from core.input import MAX_JSON_DEPTH, json_depth_exceeds
from marketplace.models import Order, Refund
from marketplace.services import refunds as refund_services
from marketplace.services.payments import payment_signature
from products.models import Board, Product
from tests.factories.accounts import PersonFactory
from tests.factories.marketplace import delivered, notification_body, pay, person_of, place
from tests.factories.products import IndustryFactory
from tests.factories.publicdata import DepartmentFactory

pytestmark = pytest.mark.django_db


def deep(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


def deep_object(levels: int) -> bytes:
    return ('{"a":' * levels + "1" + "}" * levels).encode()


def post_raw(client, url, body: bytes, **extra):
    return client.generic("POST", url, body, content_type="application/json", **extra)


# -- decline-refund with a body that is not the expected object --------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[]", "non_field_errors"),
        ('{"reason": 1, "refund": 999999}', "reason"),
        ('{"reason": 1, "refund": 1}', "reason"),
        ('{"reason": "late", "refund": 999999}', "refund"),
        ('{"reason": [], "refund": 1.5}', "reason"),
        ("{}", "refund"),
    ],
)
def test_decline_refund_with_a_body_of_the_wrong_shape_is_a_400(
    api_client, buyer, plan, body, field
):
    # given an order with a pending refund request
    order = delivered(buyer, plan)
    refund_services.order_refund_request(actor=person_of(buyer), order=order, reason="late")
    seller_api = api_client(person_of(plan.product.provider))
    # when the seller declines with a body that is not {"refund": id, "reason": text}
    response = seller_api.generic(
        "POST",
        reverse("order-decline-refund", args=[order.pk]),
        body,
        content_type="application/json",
    )
    # then 400 naming the field, and the request is still pending
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Refund.objects.get(order=order).status == "requested"


def test_decline_refund_with_a_blank_reason_names_reason(api_client, buyer, plan):
    order = delivered(buyer, plan)
    refund = refund_services.order_refund_request(actor=person_of(buyer), order=order, reason="x")
    seller_api = api_client(person_of(plan.product.provider))
    response = seller_api.post(
        reverse("order-decline-refund", args=[order.pk]),
        {"refund": refund.pk, "reason": "   "},
        format="json",
    )
    assert response.status_code == 400
    assert "reason" in response.json()


# -- NUL characters -----------------------------------------------------------


def test_a_nul_in_a_slug_field_of_a_json_body_is_a_400_naming_it(merchant_a_api):
    # given an industry the draft could name
    IndustryFactory(code="transport")
    # when the industry's code carries a NUL
    response = merchant_a_api.post(
        "/api/v1/products/",
        {"title": "Bus GPS", "industry": "transport\u0000", "delivery_mode": "api"},
        format="json",
    )
    # then
    assert response.status_code == 400, response.content
    assert "industry" in response.json()
    assert not Product.objects.exists()


def test_a_nul_deep_inside_a_body_names_the_path(operator_api):
    response = operator_api.post(
        "/api/v1/boards/",
        {"code": "b", "name": "B", "industries": ["ok", "bad\u0000"]},
        format="json",
    )
    assert response.status_code == 400
    assert "industries.1" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/?search=a%00",
        "/api/v1/products/?industry=a%00",
        "/api/v1/orders/?ordering=%00",
        "/admin/products/product/?q=a%00",
    ],
)
def test_a_nul_in_the_query_string_is_a_400_naming_the_parameter(client, operator, url):
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 400
    assert response.json()["error_code"] == "null_characters"


def test_a_nul_in_a_form_encoded_body_is_a_400(operator_api):
    response = operator_api.post("/api/v1/boards/", {"code": "b\x00", "name": "B"})
    assert response.status_code == 400
    assert "code" in {e["field"].split(".")[0] for e in response.json()["errors"]}


def test_a_nul_in_a_header_is_a_400(buyer, plan, api_client):
    buyer_api = api_client(person_of(buyer))
    response = buyer_api.post(
        reverse("order-list"),
        {"plan": plan.pk, "quantity": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="key\x00",
    )
    assert response.status_code == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize("field", ["order_number", "nonce", "channel_reference"])
def test_a_nul_inside_a_signed_payment_notification_is_a_400(client, buyer, plan, field):
    # given a correctly signed notification whose text carries a NUL
    order = place(buyer, plan)
    body = notification_body(order, **{field: "N\u0000" + order.number})
    # when the channel sends it
    response = post_raw(
        client, reverse("payment-notify"), body, HTTP_X_PAYMENT_SIGNATURE=payment_signature(body)
    )
    # then
    assert response.status_code == 400, response.content
    assert field in response.json()
    order.refresh_from_db()
    assert order.status == "pending_payment"


# -- JSON nested 1,000 deep --------------------------------------------------


def test_the_depth_check_counts_brackets_outside_strings_only():
    assert json_depth_exceeds(deep(MAX_JSON_DEPTH + 1))
    assert not json_depth_exceeds(deep(MAX_JSON_DEPTH))
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 5000 + b'"}')
    assert not json_depth_exceeds(b'{"a": "\\"' + b"[" * 5000 + b'"}')


@pytest.mark.parametrize("body", [deep(1000), deep_object(1000), deep(100_000)])
@pytest.mark.parametrize(
    "url",
    ["/api/v1/auth/token/", "/api/v1/boards/", "/api/v1/grants/", "/api/v1/product-cost-lines/"],
)
def test_json_nested_too_deep_is_a_400_on_any_endpoint(operator_api, url, body):
    response = post_raw(operator_api, url, body)
    assert response.status_code == 400, (url, response.status_code)
    assert response.json()["error_code"] == "too_deep"


def test_json_nested_too_deep_in_a_signed_notification_is_a_400(client):
    body = deep_object(1000)
    response = post_raw(
        client, reverse("payment-notify"), body, HTTP_X_PAYMENT_SIGNATURE=payment_signature(body)
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "too_deep"


def test_the_token_endpoint_still_signs_in(client):
    person = PersonFactory()
    person.set_password("a long passphrase 42")
    person.save()
    response = client.post(
        "/api/v1/auth/token/",
        json.dumps({"username": person.username, "password": "a long passphrase 42"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["token"]


# -- yuan amounts: one spelling -----------------------------------------------

NOT_AN_AMOUNT = [
    "1e999999",
    "1E5",
    "1e1",
    "\uff11.\uff10\uff10",
    "1_0",
    " 1.00",
    "1.00 ",
    "+1.00",
    "12.",
    ".5",
    "1.234",
    "NaN",
    "-Infinity",
    "0x10",
    "99999999999999.00",
    "",
]


@pytest.mark.parametrize("amount", [*NOT_AN_AMOUNT, 12, 12.5, True, None, [], {}])
def test_a_refund_takes_only_a_plain_decimal_string(operator_api, buyer, plan, amount):
    order = pay(place(buyer, plan))
    response = operator_api.post(
        reverse("order-refund", args=[order.pk]),
        {"amount": amount, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400, (amount, response.content)
    assert "amount" in response.json()
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.parametrize("amount", ["12.34", "12.3", "12", "0.01", "0012.00"])
def test_plain_decimal_strings_are_amounts(amount):
    from core.money import yuan_to_fen

    assert yuan_to_fen(amount) == round(float(amount) * 100)


@pytest.mark.parametrize("amount", ["1e999999", "-1e999999", "1E+999999999"])
@pytest.mark.parametrize(
    "url",
    ["/api/v1/products/?price_min={}", "/api/v1/products/?price_max={}"],
)
def test_huge_exponents_in_filters_are_a_400(operator_api, url, amount):
    response = operator_api.get(url.format(amount))
    assert response.status_code == 400
    assert url.split("?")[1].split("=")[0] in response.json()


def test_huge_exponents_in_a_plan_are_a_400(merchant_a_api, owner_a):
    from tests.factories.products import ProductFactory

    product = ProductFactory(provider=owner_a.merchant)
    response = merchant_a_api.post(
        "/api/v1/plans/",
        {"product": product.pk, "kind": "one_off", "price": "1e999999"},
        format="json",
    )
    assert response.status_code == 400
    assert "price" in response.json()


def test_huge_exponents_in_a_cost_line_and_a_fee_ceiling_are_a_400(operator_api, owner_a):
    from tests.factories.products import ProductFactory

    product = ProductFactory(provider=owner_a.merchant)
    cost = operator_api.post(
        "/api/v1/product-cost-lines/",
        {"product": product.pk, "amount": "1e999999", "description": "x"},
        format="json",
    )
    assert cost.status_code == 400
    assert "amount" in cost.json()
    grant = operator_api.post("/api/v1/grants/", {"fee_ceiling": "1e999999"}, format="json")
    assert grant.status_code == 400
    assert "fee_ceiling" in grant.json()


def test_a_huge_exponent_in_a_signed_notification_is_a_400(client, buyer, plan):
    order = place(buyer, plan)
    body = notification_body(order, amount="1e999999")
    response = post_raw(
        client, reverse("payment-notify"), body, HTTP_X_PAYMENT_SIGNATURE=payment_signature(body)
    )
    assert response.status_code == 400
    assert "amount" in response.json()


# -- ids are integers ---------------------------------------------------------


@pytest.mark.parametrize("plan_id", ["float", "text", True, "1 ", "\uff11"])
def test_an_id_that_is_not_a_whole_number_is_refused(api_client, buyer, plan, plan_id):
    value = {"float": plan.pk + 0.9, "text": f"{plan.pk}.9"}.get(plan_id, plan_id)
    response = api_client(person_of(buyer)).post(
        reverse("order-list"),
        {"plan": value, "quantity": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 400, (value, response.content)
    assert "plan" in response.json()
    assert not Order.objects.exists()


def test_an_id_as_a_digit_string_still_names_the_row(api_client, buyer, plan):
    response = api_client(person_of(buyer)).post(
        reverse("order-list"),
        {"plan": str(plan.pk), "quantity": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 201, response.content


# -- text has a length limit ----------------------------------------------------


def test_board_descriptions_have_a_length_limit(operator_api, settings):
    department = DepartmentFactory()
    response = operator_api.post(
        "/api/v1/boards/",
        {
            "code": "long",
            "name": "Long",
            "department": department.pk,
            "description": "x" * (settings.EXCHANGE_TEXT_MAX_LENGTH + 1),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "description" in response.json()
    assert not Board.objects.filter(code="long").exists()


# -- cursors --------------------------------------------------------------------


def _cursor(**tokens) -> str:
    from urllib.parse import urlencode

    return b64encode(urlencode(tokens).encode()).decode()


@pytest.mark.parametrize(
    "url", ["/api/v1/chain-seals/", "/api/v1/ledger-accounts/?ordering=balance_fen"]
)
@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        b64encode(b"\xff\xfe").decode(),
        _cursor(p="abc"),
        _cursor(p="1e999999"),
        _cursor(p="99999999999999999999999"),
        _cursor(p="2026-01-01 00:00:00+00:00"),
        _cursor(p="a\x00"),
        _cursor(o="-1"),
        _cursor(r="x"),
    ],
)
def test_a_tampered_cursor_is_a_400_naming_cursor(operator_api, url, cursor):
    response = operator_api.get(f"{url}{'&' if '?' in url else '?'}cursor={quote(cursor)}")
    assert response.status_code == 400, (cursor, response.status_code)
    assert "cursor" in response.json()


def test_a_cursor_replayed_under_another_ordering_is_a_400(operator_api):
    from settlements.choices import AccountKind
    from settlements.services.ledger import account_get
    from tests.factories.accounts import MerchantFactory

    for _ in range(3):
        account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=MerchantFactory())
    first = operator_api.get(
        "/api/v1/ledger-accounts/", {"page_size": 1, "ordering": "balance_fen"}
    )
    assert first.status_code == 200
    next_link = first.json()["next"]
    assert next_link
    cursor = unquote(next_link.split("cursor=")[1].split("&")[0])
    # the cursor works under its own ordering ...
    same = operator_api.get(
        "/api/v1/ledger-accounts/", {"page_size": 1, "ordering": "balance_fen", "cursor": cursor}
    )
    assert same.status_code == 200
    # ... and is refused under another
    other = operator_api.get(
        "/api/v1/ledger-accounts/", {"page_size": 1, "ordering": "kind", "cursor": cursor}
    )
    assert other.status_code == 400
    assert "cursor" in other.json()


def test_decline_refund_with_a_number_for_the_reason_is_a_400_naming_reason(
    api_client, buyer, plan
):
    # given a pending refund request the seller could decline
    order = delivered(buyer, plan)
    refund = refund_services.order_refund_request(actor=person_of(buyer), order=order, reason="x")
    seller_api = api_client(person_of(plan.product.provider))
    # when the seller sends the request's id right, but a number where the reason goes
    response = seller_api.post(
        reverse("order-decline-refund", args=[order.pk]),
        {"refund": refund.pk, "reason": 1},
        format="json",
    )
    # then 400 naming reason, and the request is still pending
    assert response.status_code == 400, response.content
    assert "reason" in response.json()
    assert Refund.objects.get(pk=refund.pk).status == "requested"
