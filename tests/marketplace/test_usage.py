import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Order, UsageRecord
from marketplace.services.usage import usage_bill_month
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import OrderFactory, listed_product, person_of
from tests.factories.products import PlanFactory

pytestmark = pytest.mark.django_db
LIST = reverse("usage-record-list")


@pytest.fixture
def metered(product):
    return PlanFactory(
        product=product,
        kind="metered",
        price_fen=0,
        unit_price_fen=2,  # 0.02 yuan per call
        included_calls=1000,
        monthly_cap_fen=50_00,
    )


@pytest.fixture
def contract(buyer, plan):
    """The buyer's paid order of the product (a one-off plan): the right to call it."""
    return OrderFactory(buyer=buyer, plan=plan, status="paid")


@pytest.fixture
def gateway(api_client, seller, contract):
    return api_client(person_of(seller))


def last_month_at(day: int) -> dt.datetime:
    first = timezone.localdate().replace(day=1)
    month = (first - dt.timedelta(days=1)).replace(day=day)
    return timezone.make_aware(dt.datetime.combine(month, dt.time(12)))


def report(client, record_id, buyer, plan, calls, used_at):
    payload = {
        "record_id": record_id,
        "buyer": buyer.pk,
        "plan": plan.pk,
        "calls": calls,
        "used_at": used_at.isoformat(),
    }
    return client.post(LIST, payload, format="json")


def test_a_record_resent_is_stored_once(gateway, buyer, metered):
    used = last_month_at(3)
    first = report(gateway, "r-1", buyer, metered, 500, used)
    again = report(gateway, "r-1", buyer, metered, 500, used)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert UsageRecord.objects.count() == 1


def test_a_record_id_reused_with_other_figures_is_a_409(gateway, buyer, metered):
    report(gateway, "r-1", buyer, metered, 500, last_month_at(3))
    response = report(gateway, "r-1", buyer, metered, 501, last_month_at(3))
    assert response.status_code == 409
    assert response.json()["error_code"] == "record_id_reused"


def test_only_the_seller_reports_usage_of_its_plans(api_client, buyer, metered):
    stranger = api_client(person_of(MerchantFactory()))
    response = report(stranger, "r-1", buyer, metered, 5, last_month_at(3))
    assert response.status_code == 400
    assert "plan" in response.json()


def test_usage_of_a_one_off_plan_is_refused(gateway, buyer, plan):
    response = report(gateway, "r-1", buyer, plan, 5, last_month_at(3))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("calls", 0),
        ("calls", "many"),
        ("calls", 10**12),
        ("used_at", "later"),
        ("used_at", "9999-01-01T00:00:00+08:00"),
        ("used_at", "0001-01-02T00:00:00+08:00"),
        ("buyer", "x"),
        ("buyer", 10**30),
        ("plan", None),
        ("record_id", "x" * 65),
    ],
)
def test_bad_usage_records_are_400(gateway, buyer, metered, field, value):
    payload = {"record_id": "r", "buyer": buyer.pk, "plan": metered.pk, "calls": 1,
               "used_at": last_month_at(2).isoformat(), field: value}  # fmt: skip
    response = gateway.post(LIST, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_monthly_bill_honours_included_calls_and_cap(seller, buyer, metered):
    # given 1500 calls (500 billable at 0.02 = 10.00) from one buyer, and 9000 calls
    # (8000 billable = 160.00, capped at 50.00) from another
    other = MerchantFactory()
    for i, (who, calls) in enumerate([(buyer, 700), (buyer, 800), (other, 9000)]):
        UsageRecord.objects.create(seller=seller, buyer=who, plan=metered, record_id=f"r{i}",
                                   calls=calls, used_at=last_month_at(5 + i))  # fmt: skip
    month = last_month_at(1).date()
    # when the monthly job runs twice
    assert usage_bill_month(month=month) == 2
    assert usage_bill_month(month=month) == 0
    # then
    mine = Order.objects.get(buyer=buyer, plan=metered)
    theirs = Order.objects.get(buyer=other, plan=metered)
    assert mine.amount_fen == 10_00
    assert theirs.amount_fen == 50_00
    assert theirs.contract["usage"]["capped"] is True
    assert mine.billed_month == month
    assert mine.period_start == month
    assert UsageRecord.objects.filter(billed_order__isnull=True).count() == 0


def test_usage_within_included_calls_is_billed_as_a_free_order(seller, buyer, metered):
    UsageRecord.objects.create(seller=seller, buyer=buyer, plan=metered, record_id="r",
                               calls=10, used_at=last_month_at(2))  # fmt: skip
    usage_bill_month(month=last_month_at(1).date())
    order = Order.objects.get(buyer=buyer)
    assert (order.amount_fen, order.status) == (0, "paid")


def test_usage_for_a_billed_month_is_refused(gateway, seller, buyer, metered):
    report(gateway, "r-1", buyer, metered, 5000, last_month_at(3))
    usage_bill_month(month=last_month_at(1).date())
    response = report(gateway, "r-2", buyer, metered, 5, last_month_at(4))
    assert response.status_code == 400
    assert "used_at" in response.json()


def test_both_sides_see_usage_records(api_client, gateway, buyer, metered):
    report(gateway, "r-1", buyer, metered, 5, last_month_at(3))
    rows = api_client(person_of(buyer)).get(LIST).json()["results"]
    assert [r["record_id"] for r in rows] == ["r-1"]


# -- usage belongs to an order in force between seller and buyer ----------------------


def test_usage_billing_a_buyer_without_an_order_is_refused(api_client, seller, buyer, metered):
    # given a buyer that never ordered the product
    gateway = api_client(person_of(seller))
    # when the seller reports usage by it
    response = report(gateway, "r-1", buyer, metered, 5, last_month_at(3))
    # then it is refused naming the buyer, and nothing is stored or billed
    assert response.status_code == 400, response.content
    assert [item["field"] for item in response.json()["errors"]] == ["buyer"]
    assert response.json()["error_code"] == "no_order_in_force"
    assert not UsageRecord.objects.exists()
    assert usage_bill_month(month=last_month_at(1).date()) == 0
    assert not Order.objects.filter(buyer=buyer).exists()


@pytest.mark.parametrize("status", ["pending_payment", "cancelled", "refunded"])
def test_an_order_not_in_force_gives_no_right_to_bill(
    api_client, seller, buyer, plan, metered, status
):
    OrderFactory(buyer=buyer, plan=plan, status=status)
    response = report(api_client(person_of(seller)), "r-1", buyer, metered, 5, last_month_at(3))
    assert response.status_code == 400
    assert response.json()["error_code"] == "no_order_in_force"


def test_an_order_of_another_product_gives_no_right_to_bill(api_client, seller, buyer, metered):
    other = PlanFactory(product=listed_product(provider=seller), kind="one_off")
    OrderFactory(buyer=buyer, plan=other, status="accepted")
    response = report(api_client(person_of(seller)), "r-1", buyer, metered, 5, last_month_at(3))
    assert response.status_code == 400


def test_a_subscription_covers_only_the_days_of_its_period(
    api_client, seller, buyer, product, metered
):
    # given a monthly subscription for this month only
    first = timezone.localdate().replace(day=1)
    subscription = PlanFactory(product=product, kind="subscription", price_fen=10_00)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    OrderFactory(buyer=buyer, plan=subscription, status="paid", period_start=first,
                 period_end=last)  # fmt: skip
    gateway = api_client(person_of(seller))
    # then usage last month is refused and usage now accepted
    assert report(gateway, "r-1", buyer, metered, 5, last_month_at(3)).status_code == 400
    assert report(gateway, "r-2", buyer, metered, 5, timezone.now()).status_code == 201


def test_a_usage_bill_is_not_itself_a_right_to_bill_again(api_client, seller, buyer, metered):
    OrderFactory(buyer=buyer, plan=metered, status="paid",
                 billed_month=last_month_at(1).date().replace(day=1))  # fmt: skip
    response = report(api_client(person_of(seller)), "r-1", buyer, metered, 5, last_month_at(3))
    assert response.status_code == 400
