import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Merchant
from products.models import Product, ProductReview
from tests.factories.accounts import MerchantFactory
from tests.factories.products import (
    ALL_TICKED,
    MANUAL,
    BoardFactory,
    IndustryFactory,
    PlanFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_merchant_creates_submits_and_reads_the_review_comments(
    merchant_a_api, operator_api, owner_a
):
    # given an industry
    IndustryFactory(code="transport", name="Transport")
    # when the merchant creates a draft and a plan through the API
    created = merchant_a_api.post(
        URL,
        {"title": "Bus GPS", "industry": "transport", "delivery_mode": "api", **MANUAL},
        format="json",
    )
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    assert created.json()["provider"] == owner_a.merchant_id
    plan = merchant_a_api.post(
        "/api/v1/plans/",
        {"product": product_id, "kind": "subscription", "period": "month", "price": "99.50"},
        format="json",
    )
    assert plan.status_code == 201, plan.content
    assert plan.json()["price"] == "99.50"
    assert merchant_a_api.post(f"{URL}{product_id}/submit/").status_code == 200
    # then the merchant cannot start the review, the operator can, and rejects with comments
    assert merchant_a_api.post(f"{URL}{product_id}/start-review/").status_code == 403
    assert operator_api.post(f"{URL}{product_id}/start-review/").status_code == 200
    rejected = operator_api.post(
        f"{URL}{product_id}/reject/", {"comments": "State the bus lines covered."}, format="json"
    )
    assert rejected.status_code == 200
    detail = merchant_a_api.get(f"{URL}{product_id}/").json()
    assert detail["status"] == "draft"
    assert detail["reviews"][0]["comments"] == "State the bus lines covered."
    assert detail["starting_price"] == "99.50"


def test_operator_approves_and_the_answer_shows_the_registration_number(
    operator_api, owner_a, make_draft
):
    from products import services

    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    assert operator_api.post(f"{URL}{product.pk}/start-review/").status_code == 200
    response = operator_api.post(f"{URL}{product.pk}/approve/", ALL_TICKED, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "listed"
    assert body["registration_number"].startswith("HNDP-")
    assert body["versions"][0]["number"] == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"compliance_checklist": "yes"}, "compliance_checklist"),
        ({}, "compliance_checklist"),
        ({**ALL_TICKED, "quality_checklist": {"manual_complete": "maybe"}}, "quality_checklist"),
        ({**ALL_TICKED, "quality_checklist": {"bogus": True}}, "quality_checklist"),
    ],
)
def test_approve_with_bad_checklists_is_a_400_naming_the_field(
    payload, field, operator_api, owner_a, make_draft
):
    from products import services

    product = make_draft(owner_a)
    services.product_submit(actor=owner_a, product=product)
    operator_api.post(f"{URL}{product.pk}/start-review/")
    response = operator_api.post(f"{URL}{product.pk}/approve/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Product.objects.get(pk=product.pk).status == "in_review"


def test_core_grade_submit_is_a_clear_400(merchant_a_api, owner_a, make_draft):
    product = make_draft(owner_a, grade="core")
    response = merchant_a_api.post(f"{URL}{product.pk}/submit/")
    assert response.status_code == 400
    assert "核心数据" in response.json()["grade"][0]


def test_illegal_move_is_a_409(operator_api, owner_a):
    product = ProductFactory(provider=owner_a.merchant, status="draft")
    response = operator_api.post(f"{URL}{product.pk}/delist/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["error_code"] == "invalid_transition"


@pytest.mark.parametrize("verb", ["suspend", "delist", "reinstate"])
def test_operator_actions_need_a_reason(verb, operator_api, owner_a):
    product = ProductFactory(provider=owner_a.merchant)
    response = operator_api.post(f"{URL}{product.pk}/{verb}/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


@pytest.mark.parametrize("verb", ["suspend", "delist", "approve", "reject", "start-review"])
def test_merchants_cannot_use_operator_actions_on_their_own_products(verb, merchant_a_api, owner_a):
    product = ProductFactory(provider=owner_a.merchant)
    response = merchant_a_api.post(f"{URL}{product.pk}/{verb}/", {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).status == "listed"


def test_merchant_asks_for_delisting_through_the_api(merchant_a_api, owner_a):
    product = ProductFactory(provider=owner_a.merchant)
    response = merchant_a_api.post(
        f"{URL}{product.pk}/request-delisting/", {"reason": "source ended"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["delisting_requested_at"] is not None
    assert response.json()["status"] == "listed"


def test_merchant_never_sees_another_merchants_drafts(merchant_a_api, merchant_b):
    draft = ProductFactory(provider=merchant_b, status="draft")
    assert draft.pk not in ids(merchant_a_api.get(URL))
    assert merchant_a_api.get(f"{URL}{draft.pk}/").status_code == 404
    assert merchant_a_api.post(f"{URL}{draft.pk}/submit/").status_code == 404


def test_merchant_cannot_create_for_another_merchant(merchant_a_api, merchant_b):
    IndustryFactory(code="finance")
    response = merchant_a_api.post(
        URL,
        {"title": "x", "industry": "finance", "delivery_mode": "file", "provider": merchant_b.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "provider" in response.json()
    assert not Product.objects.filter(provider=merchant_b).exists()


def test_merchant_cannot_add_a_plan_to_another_merchants_product(merchant_a_api, merchant_b):
    draft = ProductFactory(provider=merchant_b, status="draft")
    response = merchant_a_api.post(
        "/api/v1/plans/", {"product": draft.pk, "kind": "free"}, format="json"
    )
    assert response.status_code == 400
    assert not draft.plans.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "", "industry": "nope", "delivery_mode": "fax"},
        {"title": "x" * 500, "industry": "weather", "delivery_mode": "api"},
        {"title": "x", "industry": "weather", "delivery_mode": "api", "volume_bytes": "lots"},
        {"title": "x", "industry": "weather", "delivery_mode": "api", "volume_bytes": 10**30},
        {"title": "x", "industry": "weather", "delivery_mode": "api", "grant": 10**20},
        [],
        "garbage",
    ],
)
def test_garbage_product_input_is_a_400_never_a_500(payload, merchant_a_api):
    IndustryFactory(code="weather")
    response = merchant_a_api.post(URL, payload, format="json")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize(
    "payload",
    [
        {"product": "abc", "kind": "free"},
        {"product": 10**20, "kind": "free"},
        {"kind": "one_off", "price": 12.5},
        {"kind": "one_off", "price": "12.345"},
        {"kind": "one_off", "price": "1e30"},
        {"kind": "one_off", "price": "-1"},
        {"kind": "metered", "unit_price": "NaN"},
    ],
)
def test_garbage_plan_input_is_a_400(payload, merchant_a_api, owner_a):
    draft = ProductFactory(provider=owner_a.merchant, status="draft")
    response = merchant_a_api.post(
        "/api/v1/plans/", {"product": draft.pk, **payload}, format="json"
    )
    assert response.status_code == 400, response.content


def test_unknown_product_id_is_a_404(operator_api):
    assert operator_api.get(f"{URL}999999999/").status_code == 404
    assert operator_api.post(f"{URL}abc/approve/", ALL_TICKED, format="json").status_code == 404


# ---- filters, ordering, pagination -------------------------------------------------


@pytest.fixture
def catalog():
    weather = IndustryFactory(code="weather")
    finance = IndustryFactory(code="finance")
    board = BoardFactory(code="weather-board")
    changsha = MerchantFactory(region="430100")
    yueyang = MerchantFactory(region="430600")
    now = timezone.now()
    made = {
        "rain": ProductFactory(
            provider=changsha, industry=weather, board=board, title="Rainfall radar",
            tags="rain, radar", delivery_mode="file", listed_at=now - dt.timedelta(days=40),
        ),
        "loans": ProductFactory(
            provider=yueyang, industry=finance, title="SME credit scores",
            summary="Scores from tax records", grade="important", delivery_mode="model",
            listed_at=now - dt.timedelta(days=2),
        ),
        "draft": ProductFactory(
            provider=yueyang, industry=weather, status="draft", title="Wind draft",
        ),
    }  # fmt: skip
    PlanFactory(product=made["rain"], price_fen=50_00)
    PlanFactory(product=made["loans"], price_fen=5000_00)
    return made


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"industry": "weather"}, {"rain", "draft"}),
        ({"board": "weather-board"}, {"rain"}),
        ({"status": "draft"}, {"draft"}),
        ({"status": ["draft", "listed"]}, {"rain", "loans", "draft"}),
        ({"delivery_mode": "model"}, {"loans"}),
        ({"grade": "important"}, {"loans"}),
        ({"provider_region": "430100"}, {"rain"}),
        ({"price_min": "100"}, {"loans"}),
        ({"price_max": "100.00"}, {"rain"}),
        ({"price_min": "10", "price_max": "60"}, {"rain"}),
        ({"search": "radar"}, {"rain"}),
        ({"search": "tax records"}, {"loans"}),
        ({"search": "rain"}, {"rain"}),
    ],
)
def test_each_filter_narrows_the_list(params, expected, catalog, operator_api):
    got = ids(operator_api.get(URL, params))
    assert got == {catalog[name].pk for name in expected}


def test_provider_and_listed_date_filters(catalog, operator_api):
    loans = catalog["loans"]
    assert ids(operator_api.get(URL, {"provider": loans.provider_id})) == {
        loans.pk,
        catalog["draft"].pk,
    }
    since = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    assert ids(operator_api.get(URL, {"listed_from": since})) == {loans.pk}
    assert ids(operator_api.get(URL, {"listed_to": since})) == {catalog["rain"].pk}


@pytest.mark.parametrize(
    "params",
    [
        {"price_min": "cheap"},
        {"price_max": "1.001"},
        {"listed_from": "yesterday"},
        {"status": "lost"},
        {"industry": "no-such"},
        {"provider": "x"},
        {"cursor": "garbage"},
    ],
)
def test_bad_filter_values_are_a_400_or_ignored_never_a_500(params, catalog, operator_api):
    response = operator_api.get(URL, params)
    assert response.status_code in (400, 404), response.content


@pytest.mark.parametrize(
    ("ordering", "first"),
    [("min_price_fen", "rain"), ("-min_price_fen", "loans"), ("listed_at", "rain"),
     ("-listed_at", "loans"), ("title", "rain"), ("-title", "draft")],
)  # fmt: skip
def test_ordering_by_price_and_listing_date(ordering, first, catalog, operator_api):
    response = operator_api.get(URL, {"ordering": ordering})
    rows = response.json()["results"]
    assert rows[0]["id"] == catalog[first].pk
    if ordering.lstrip("-") in ("min_price_fen", "listed_at"):
        assert catalog["draft"].pk not in {row["id"] for row in rows}


def test_cursor_pages_walk_every_product_once_without_a_count(operator_api, owner_a):
    for _ in range(7):
        ProductFactory(provider=owner_a.merchant)
    seen, url, pages = [], URL + "?page_size=3&ordering=-listed_at", 0
    while url:
        body = operator_api.get(url).json()
        assert "count" not in body
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert len(seen) == len(set(seen)) == 7
    assert pages == 3


def test_the_list_takes_a_constant_number_of_queries(operator_api, django_assert_max_num_queries):
    # given a few products of different merchants, industries and boards
    for _ in range(3):
        ProductFactory(board=BoardFactory())
    with django_assert_max_num_queries(3) as few:
        operator_api.get(URL)
    # when there are many more
    for _ in range(20):
        PlanFactory(product=ProductFactory(board=BoardFactory()))
    # then listing them takes no more queries (auth token, page)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = operator_api.get(URL, {"page_size": 50})
    assert len(response.json()["results"]) == 23


def test_the_detail_takes_a_constant_number_of_queries(
    operator_api, owner_a, make_listed, django_assert_max_num_queries
):
    product = make_listed(owner_a)
    with django_assert_max_num_queries(12):
        response = operator_api.get(f"{URL}{product.pk}/")
    assert response.status_code == 200
    assert ProductReview.objects.filter(product=product).count() == 1
    assert Merchant.objects.count() >= 1


def test_the_list_query_has_no_distinct_so_an_index_can_serve_the_order(operator_api):
    # given products, listed with multi-value filters on their own columns
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ProductFactory()
    # when the list is asked with two statuses and two delivery modes
    with CaptureQueriesContext(connection) as queries:
        response = operator_api.get(
            URL, {"status": ["listed", "draft"], "delivery_mode": ["api", "file"]}
        )
    # then the product query is a plain ordered select (no SELECT DISTINCT to sort)
    assert response.status_code == 200
    product_sql = [q["sql"] for q in queries.captured_queries if "products_product" in q["sql"]]
    assert product_sql
    assert all("DISTINCT" not in sql.upper() for sql in product_sql)
    assert all("manual_content" not in sql for sql in product_sql)


def test_source_kind_registration_number_and_delisting_requested_filters(operator_api, owner_a):
    from products import services

    own = ProductFactory(provider=owner_a.merchant, source_kind="own")
    consent = ProductFactory(provider=owner_a.merchant, source_kind="consent")
    services.product_request_delisting(actor=owner_a, product=consent, reason="ends")
    assert ids(operator_api.get(URL, {"source_kind": "consent"})) == {consent.pk}
    assert ids(operator_api.get(URL, {"registration_number": own.registration_number})) == {own.pk}
    assert ids(operator_api.get(URL, {"delisting_requested": "true"})) == {consent.pk}
    assert ids(operator_api.get(URL, {"delisting_requested": "false"})) == {own.pk}


def test_the_same_operator_approving_twice_through_the_api_is_a_400(
    operator_api, owner_a, make_draft
):
    from products import services

    product = make_draft(owner_a, grade="important")
    services.product_submit(actor=owner_a, product=product)
    operator_api.post(f"{URL}{product.pk}/start-review/")
    first = operator_api.post(f"{URL}{product.pk}/approve/", ALL_TICKED, format="json")
    assert first.status_code == 200
    assert first.json()["status"] == "in_review"
    assert first.json()["reviews"][0]["first_approver"] is not None
    again = operator_api.post(f"{URL}{product.pk}/approve/", ALL_TICKED, format="json")
    assert again.status_code == 400
    assert again.json()["error_code"] == "same_approver"
    assert Product.objects.get(pk=product.pk).status == "in_review"
