import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Order, OrderEvent, OrderIdempotencyKey
from marketplace.services import refunds
from products.models import PricingPlan
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import delivered, listed_product, pay, person_of, place
from tests.factories.products import PlanFactory

pytestmark = pytest.mark.django_db
LIST = reverse("order-list")


def url(order, action=None):
    if action:
        return reverse(f"order-{action}", args=[order.pk])
    return reverse("order-detail", args=[order.pk])


@pytest.fixture
def buyer_api(api_client, buyer):
    return api_client(person_of(buyer))


@pytest.fixture
def seller_api(api_client, seller):
    return api_client(person_of(seller))


def create(client, payload, key="key-1"):
    return client.post(LIST, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_buyer_places_an_order_and_the_server_computes_the_amount(buyer_api, plan):
    # when the client sends an amount of its own
    response = create(buyer_api, {"plan": plan.pk, "quantity": 2, "amount": "0.01"})
    # then it is ignored: 2 x 120.00
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "240.00"
    assert body["status"] == "pending_payment"
    assert body["contract"]["plan"]["price"] == "120.00"
    assert body["events"][0]["to_status"] == "pending_payment"


def test_same_key_and_body_replays_the_same_answer(buyer_api, plan):
    # given
    first = create(buyer_api, {"plan": plan.pk, "quantity": 1})
    # when the client retries (key order in the JSON does not matter)
    second = create(buyer_api, {"quantity": 1, "plan": plan.pk})
    # then
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_refused(buyer_api, plan):
    create(buyer_api, {"plan": plan.pk, "quantity": 1})
    response = create(buyer_api, {"plan": plan.pk, "quantity": 2})
    assert response.status_code == 409
    assert response.json()["error_code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["detail"]
    assert Order.objects.count() == 1


def test_a_retry_leaves_no_second_order_nor_event_behind(buyer_api, plan):
    # given a placed order
    first = create(buyer_api, {"plan": plan.pk, "quantity": 1})
    # when the client retries it, then with another body
    again = create(buyer_api, {"plan": plan.pk, "quantity": 1})
    other = create(buyer_api, {"plan": plan.pk, "quantity": 3})
    # then the retry is answered as the first, the other body refused, and
    # only the first order, its event and its key are kept
    assert again.json() == first.json()
    assert other.status_code == 409
    assert Order.objects.count() == 1
    assert OrderEvent.objects.count() == 1
    assert OrderIdempotencyKey.objects.count() == 1


def test_a_retry_the_rules_would_now_refuse_replays_the_first_answer(buyer_api, plan):
    # given a placed order whose plan is then taken off sale
    first = create(buyer_api, {"plan": plan.pk, "quantity": 1})
    PricingPlan.objects.filter(pk=plan.pk).update(is_active=False)
    # when the client retries with the same key and body
    again = create(buyer_api, {"plan": plan.pk, "quantity": 1})
    # then it gets the first answer, not the refusal a new order would get
    assert again.status_code == 201
    assert again.json() == first.json()
    assert create(buyer_api, {"plan": plan.pk, "quantity": 1}, key="key-2").status_code == 400
    assert Order.objects.count() == 1


def test_a_retry_with_another_invalid_body_is_refused_as_a_reused_key(buyer_api, plan):
    create(buyer_api, {"plan": plan.pk, "quantity": 1})
    response = create(buyer_api, {"plan": plan.pk, "quantity": 0})
    assert response.status_code == 409
    assert response.json()["error_code"] == "idempotency_key_reused"


def test_an_order_the_rules_refuse_stores_nothing_and_its_key_stays_free(
    seller_api, buyer_api, plan
):
    # given the seller trying to buy its own plan with key "key-1" (refused by order_place)
    refused = create(seller_api, {"plan": plan.pk})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "own_product"
    # then nothing was kept and the next request places its order
    assert not Order.objects.exists()
    assert not OrderIdempotencyKey.objects.exists()
    assert create(seller_api, {"plan": plan.pk, "quantity": 2}, key="key-2").status_code == 400
    assert create(buyer_api, {"plan": plan.pk}).status_code == 201


def test_placing_through_the_api_opens_no_savepoint(buyer_api, plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when an order is placed (the request's transaction holds the key and the order)
    with CaptureQueriesContext(connection) as placing:
        response = create(buyer_api, {"plan": plan.pk})
    assert response.status_code == 201, response.content
    # then the test's own savepoint is the only one
    sent = [q["sql"] for q in placing.captured_queries]
    assert sum(s.startswith("SAVEPOINT") for s in sent) == 1
    assert Order.objects.count() == 1


def test_keys_are_scoped_per_merchant(api_client, buyer_api, plan):
    other_api = api_client(person_of(MerchantFactory()))
    assert create(buyer_api, {"plan": plan.pk}).status_code == 201
    assert create(other_api, {"plan": plan.pk}).status_code == 201
    assert Order.objects.count() == 2


def test_missing_key_is_a_400_naming_the_header(buyer_api, plan):
    response = buyer_api.post(LIST, {"plan": plan.pk}, format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Order.objects.exists()


def test_a_refused_order_stores_no_key_so_a_corrected_retry_works(buyer_api, plan):
    bad = create(buyer_api, {"plan": plan.pk, "quantity": 0})
    assert bad.status_code == 400
    assert "quantity" in bad.json()
    assert not OrderIdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"plan": "abc"},
        {"plan": 10**30},
        {"plan": 999_999},
        {"plan": None},
        {"quantity": "many"},
        {"quantity": 10**40},
        {"start_on": "yesterday"},
        {"scenario": "x"},
    ],
)
def test_garbage_is_a_400_never_a_500(buyer_api, plan, payload):
    body = {"plan": plan.pk, **payload} if "plan" not in payload and payload else payload
    response = create(buyer_api, body)
    assert response.status_code == 400, response.content
    assert not Order.objects.exists()


def test_a_list_body_is_a_400(buyer_api):
    assert create(buyer_api, [1, 2]).status_code == 400


def test_buying_your_own_product_is_a_400(seller_api, plan):
    response = create(seller_api, {"plan": plan.pk})
    assert response.status_code == 400
    assert "plan" in response.json()


def test_operators_do_not_place_orders(operator_api, plan):
    assert create(operator_api, {"plan": plan.pk}).status_code == 403


def test_subscription_start_in_the_past_is_refused(buyer_api, product):
    plan = PlanFactory(product=product, kind="subscription", period="month", price_fen=10_00)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = create(buyer_api, {"plan": plan.pk, "start_on": past})
    assert response.status_code == 400
    assert "start_on" in response.json()


def test_buyer_sees_purchases_and_seller_sees_sales(api_client, buyer, seller, plan):
    # given an order between them and one between strangers
    mine = place(buyer, plan)
    place()
    # then each side lists exactly that order
    for merchant in (buyer, seller):
        rows = api_client(person_of(merchant)).get(LIST).json()["results"]
        assert [r["id"] for r in rows] == [mine.pk]


def test_seller_delivers_and_buyer_accepts_through_the_api(buyer_api, seller_api, buyer, plan):
    order = pay(place(buyer, plan))
    # a buyer cannot deliver
    assert buyer_api.post(url(order, "deliver"), {}).status_code == 403
    response = seller_api.post(url(order, "deliver"), {"note": "s3://bucket/file"})
    assert response.status_code == 200, response.content
    assert response.json()["delivery_note"] == "s3://bucket/file"
    # a seller cannot accept
    assert seller_api.post(url(order, "accept"), {}).status_code == 403
    response = buyer_api.post(url(order, "accept"), {})
    assert response.json()["status"] == "accepted"


def test_cancel_after_payment_is_a_409(buyer_api, buyer, plan):
    order = pay(place(buyer, plan))
    response = buyer_api.post(url(order, "cancel"), {})
    assert response.status_code == 409
    assert response.json()["error_code"] == "invalid_transition"


def test_buyer_disputes_and_operator_splits(buyer_api, operator_api, buyer, plan):
    order = delivered(buyer, plan)
    response = buyer_api.post(url(order, "dispute"), {"reason": "half the fields missing"})
    assert response.status_code == 201, response.content
    assert buyer_api.post(url(order, "resolve-dispute"), {}).status_code in (400, 403)
    response = operator_api.post(
        url(order, "resolve-dispute"),
        {"outcome": "split", "refund": "20.00", "reason": "half delivered"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["refunded"], body["escrow"]) == ("accepted", "20.00", "100.00")
    assert body["disputes"][0]["outcome"] == "split"


def test_refund_request_and_seller_approval(buyer_api, seller_api, buyer, plan):
    order = delivered(buyer, plan)
    response = buyer_api.post(
        url(order, "request-refund"), {"amount": "12.50", "reason": "late"}, format="json"
    )
    assert response.status_code == 201, response.content
    refund_id = response.json()["id"]
    assert buyer_api.post(url(order, "approve-refund"), {"refund": refund_id}).status_code == 403
    response = seller_api.post(url(order, "approve-refund"), {"refund": refund_id})
    assert response.status_code == 200, response.content
    assert response.json()["refunded"] == "12.50"


@pytest.mark.parametrize("refund_id", ["x", 10**30, -1, 999_999])
def test_deciding_an_unknown_refund_request_is_a_400(seller_api, buyer, plan, refund_id):
    order = delivered(buyer, plan)
    response = seller_api.post(url(order, "approve-refund"), {"refund": refund_id}, format="json")
    assert response.status_code == 400
    assert "refund" in response.json()


def test_decline_needs_a_reason(seller_api, buyer, plan):
    order = delivered(buyer, plan)
    refund = refunds.order_refund_request(actor=person_of(buyer), order=order, reason="late")
    response = seller_api.post(url(order, "decline-refund"), {"refund": refund.pk})
    assert response.status_code == 400
    assert "reason" in response.json()


@pytest.mark.parametrize("amount", ["abc", "1.234", "-1", "1e999", "999999999999999999"])
def test_bad_refund_amounts_are_400(operator_api, buyer, plan, amount):
    order = pay(place(buyer, plan))
    response = operator_api.post(
        url(order, "refund"), {"amount": amount, "reason": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    order.refresh_from_db()
    assert order.refunded_fen == 0


def test_operator_refunds_in_full(operator_api, buyer, plan):
    order = pay(place(buyer, plan))
    response = operator_api.post(url(order, "refund"), {"reason": "duplicate purchase"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["escrow"]) == ("refunded", "0.00")


def test_operator_filters(operator_api, buyer, seller, plan):
    # given a cheap pending order and an expensive paid one
    cheap = place(buyer, plan)
    dear = pay(place(buyer, PlanFactory(product=listed_product(), price_fen=9_000_00)))
    today = timezone.localdate().isoformat()

    def ids(**params):
        response = operator_api.get(LIST, params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids(status="paid") == {dear.pk}
    assert ids(amount_min="1000.00") == {dear.pk}
    assert ids(amount_max="120.00") == {cheap.pk}
    assert ids(seller=seller.pk) == {cheap.pk}
    assert ids(buyer=buyer.pk) == {cheap.pk, dear.pk}
    assert ids(product=plan.product_id) == {cheap.pk}
    assert ids(industry=plan.product.industry.code) == {cheap.pk}
    assert ids(paid_from=today, paid_to=today) == {dear.pk}
    assert ids(created_from=today) == {cheap.pk, dear.pk}
    assert ids(ordering="-amount_fen", page_size=1) == {dear.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"amount_min": "abc"},
        {"amount_max": "1.234"},
        {"amount_min": "-1"},
        {"paid_from": "soon"},
        {"status": "lost"},
        {"buyer": "abc"},
        {"buyer": str(10**30)},
        {"seller": "1.5"},
        {"industry": "0"},
        {"ordering": "contract"},
    ],
)
def test_bad_filters_are_400(operator_api, params):
    response = operator_api.get(LIST, params)
    if "ordering" in params:
        # DRF ignores orderings it does not offer rather than failing
        assert response.status_code == 200
    else:
        assert response.status_code == 400


def test_schema_stays_valid(operator_api):
    response = operator_api.get(reverse("api-schema"))
    assert response.status_code == 200


@pytest.mark.parametrize("pk", ["abc", str(10**30), "-1", "1.5"])
def test_unknown_order_urls_are_404(operator_api, pk):
    assert operator_api.get(f"{LIST}{pk}/").status_code == 404
    assert operator_api.post(f"{LIST}{pk}/refund/", {"reason": "x"}).status_code == 404


def test_a_placed_orders_answer_is_its_detail_in_fewer_statements(merchant_b_api, merchant_a):
    # given a one-off plan of merchant A
    plan = PlanFactory(product=listed_product(provider=merchant_a), price_fen=25_00)
    # when merchant B places an order (statements counted)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as placing:
        response = merchant_b_api.post(
            "/api/v1/orders/",
            {"plan": plan.pk, "quantity": 2},
            format="json",
            headers={"Idempotency-Key": "fewer-statements-1"},
        )
    assert response.status_code == 201, response.content
    # then the answer is what reading the order back gives
    detail = merchant_b_api.get(f"/api/v1/orders/{response.json()['id']}/").json()
    assert response.json() == detail
    # and the order is not read back nor its (still empty) refunds, disputes or downloads
    sent = " ".join(q["sql"] for q in placing.captured_queries)
    for table in ("marketplace_refund", "marketplace_dispute", "delivery_download"):
        assert f'FROM "{table}"' not in sent


def test_a_placement_reads_its_plan_once_and_its_events_not_at_all(merchant_b_api, merchant_a):
    # given a one-off plan of merchant A
    plan = PlanFactory(product=listed_product(provider=merchant_a), price_fen=25_00)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when merchant B places an order (statements counted)
    with CaptureQueriesContext(connection) as placing:
        response = merchant_b_api.post(
            LIST, {"plan": plan.pk}, format="json", headers={"Idempotency-Key": "once-1"}
        )
    assert response.status_code == 201, response.content
    # then the plan was read once, the events it wrote were not read back,
    # and the answer is still the order's detail with its placement event
    sent = [q["sql"] for q in placing.captured_queries]
    assert sum('FROM "products_pricingplan"' in s for s in sent) == 1
    assert not any('FROM "marketplace_orderevent"' in s for s in sent)
    body = response.json()
    assert [e["to_status"] for e in body["events"]] == ["pending_payment"]
    assert body == merchant_b_api.get(url(Order.objects.get(pk=body["id"]))).json()


def test_a_free_orders_answer_lists_both_its_events(merchant_b_api, merchant_a):
    # given a free plan: placing it also moves the order to paid, a second event
    plan = PlanFactory(product=listed_product(provider=merchant_a), kind="free", price_fen=0)
    # when merchant B places it
    response = create(merchant_b_api, {"plan": plan.pk}, key="free-1")
    # then the answer lists both events, as reading the order back does
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert body == merchant_b_api.get(url(Order.objects.get(pk=body["id"]))).json()
