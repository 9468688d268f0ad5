import csv
import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from settlements.choices import AccountKind, ClearingStatus
from settlements.models import ClearingBatch, FeeSchedule, Payout, ProductCostLine
from settlements.services.clearing import clearing_run_for_day
from settlements.services.ledger import account_get
from settlements.services.payouts import clearing_batch_confirm
from tests.factories.products import ProductFactory
from tests.factories.publicdata import DepartmentFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders

pytestmark = pytest.mark.django_db

BATCHES = reverse("clearing-batch-list")
FEES = reverse("fee-schedule-list")
PAYOUTS = reverse("payout-list")
STATEMENTS = reverse("statement")
DEPARTMENTS = reverse("department-statement")
ASSETS = reverse("data-asset-record")
COSTS = reverse("product-cost-line-list")


@pytest.fixture
def sold_day(merchant_a, merchant_b):
    """merchant_a sold 4 orders to merchant_b on a past day (one with a department share)."""
    default_fee(300)
    day = a_past_day()
    orders = make_accepted_orders(
        day=day, count=3, sellers=[merchant_a], buyers=[merchant_b], amounts=[100_000]
    )
    orders += make_accepted_orders(
        day=day, count=1, sellers=[merchant_a], buyers=[merchant_b], amounts=[100_000],
        department=DepartmentFactory(), share_bps=1000,
    )  # fmt: skip
    return day, orders


# --- clearing batches -------------------------------------------------------------------


def test_operator_runs_a_day_and_reads_its_totals_and_progress(
    operator_api, sold_day, django_capture_on_commit_callbacks
):
    day, _orders = sold_day
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_api.post(BATCHES, {"business_date": day.isoformat()}, format="json")
    assert response.status_code == 202, response.content
    detail = operator_api.get(reverse("clearing-batch-detail", args=[response.json()["id"]]))
    body = detail.json()
    assert body["status"] == "computed"
    assert body["order_count"] == 4
    assert body["gross"] == "4000.00"
    assert body["fees"] == "120.00"
    assert body["department_shares"] == "100.00"
    assert body["seller_net"] == "3780.00"
    assert body["progress"] == {
        "chunks": 1, "chunks_done": 1, "orders_planned": 4, "orders_cleared": 4
    }  # fmt: skip
    assert [e["to_status"] for e in body["events"]] == ["running", "computed"]


def test_operator_lists_batches_with_filters(operator_api):
    old = ClearingBatch.objects.create(business_date=dt.date(2025, 1, 2), status="settled")
    new = ClearingBatch.objects.create(business_date=dt.date(2025, 3, 4), status="computed")
    listed = operator_api.get(BATCHES, {"status": "computed"}).json()["results"]
    assert [b["id"] for b in listed] == [new.pk]
    ranged = operator_api.get(BATCHES, {"business_date_to": "2025-02-01"}).json()["results"]
    assert [b["id"] for b in ranged] == [old.pk]
    assert operator_api.get(BATCHES, {"status": "bogus"}).status_code == 400


def test_operator_confirms_a_computed_batch_and_payouts_appear(operator_api, sold_day, merchant_a):
    day, _orders = sold_day
    batch = clearing_run_for_day(business_date=day)
    response = operator_api.post(reverse("clearing-batch-confirm", args=[batch.pk]))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"
    assert Payout.objects.get(batch=batch).merchant == merchant_a
    # confirming again is a no-op
    assert operator_api.post(reverse("clearing-batch-confirm", args=[batch.pk])).status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "business_date"),
        ({"business_date": "yesterday"}, "business_date"),
        ({"business_date": "2026-13-45"}, "business_date"),
        ({"business_date": 12345}, "business_date"),
        ({"business_date": "1999-12-31"}, "business_date"),
    ],
)
def test_running_a_day_with_bad_input_is_a_400_naming_the_field(operator_api, payload, field):
    response = operator_api.post(BATCHES, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ClearingBatch.objects.exists()


def test_running_today_or_a_confirmed_day_is_refused(operator_api):
    today = operator_api.post(
        BATCHES, {"business_date": timezone.localdate().isoformat()}, format="json"
    )
    assert today.status_code == 400
    assert "business_date" in today.json()
    day = a_past_day()
    ClearingBatch.objects.create(business_date=day, status=ClearingStatus.CONFIRMED)
    closed = operator_api.post(BATCHES, {"business_date": day.isoformat()}, format="json")
    assert closed.status_code == 409


def test_confirming_a_running_batch_is_a_409(operator_api):
    batch = ClearingBatch.objects.create(business_date=a_past_day())
    response = operator_api.post(reverse("clearing-batch-confirm", args=[batch.pk]))
    assert response.status_code == 409


def test_merchants_cannot_run_see_or_confirm_batches(merchant_a_api, sold_day):
    day, _orders = sold_day
    batch = clearing_run_for_day(business_date=day)
    run = merchant_a_api.post(BATCHES, {"business_date": day.isoformat()}, format="json")
    assert run.status_code == 403
    assert merchant_a_api.get(BATCHES).json()["results"] == []
    assert merchant_a_api.get(reverse("clearing-batch-detail", args=[batch.pk])).status_code == 404
    confirm = merchant_a_api.post(reverse("clearing-batch-confirm", args=[batch.pk]))
    assert confirm.status_code in (403, 404)
    batch.refresh_from_db()
    assert batch.status == ClearingStatus.COMPUTED


# --- fee schedules ----------------------------------------------------------------------


def test_operator_adds_and_edits_a_rate_and_merchants_read_it(operator_api, merchant_a_api):
    created = operator_api.post(
        FEES,
        {"fee_bps": 250, "delivery_mode": "api", "effective_from": "2026-01-01", "note": "API"},
        format="json",
    )
    assert created.status_code == 201, created.content
    url = reverse("fee-schedule-detail", args=[created.json()["id"]])
    edited = operator_api.patch(url, {"fee_bps": 200}, format="json")
    assert edited.status_code == 200
    assert FeeSchedule.objects.get().fee_bps == 200
    assert merchant_a_api.get(url).json()["fee_bps"] == 200
    assert merchant_a_api.patch(url, {"fee_bps": 1}, format="json").status_code == 403
    assert merchant_a_api.post(FEES, {"fee_bps": 1}, format="json").status_code == 403
    in_force = operator_api.get(FEES, {"in_force_on": "2025-06-01"}).json()["results"]
    assert in_force == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"fee_bps": 10_001, "effective_from": "2026-01-01"}, "fee_bps"),
        ({"fee_bps": -1, "effective_from": "2026-01-01"}, "fee_bps"),
        ({"fee_bps": "lots", "effective_from": "2026-01-01"}, "fee_bps"),
        ({"fee_bps": 10**30, "effective_from": "2026-01-01"}, "fee_bps"),
        ({"fee_bps": 100}, "effective_from"),
        ({"fee_bps": 100, "effective_from": "2026-01-01", "delivery_mode": "fax"}, "delivery_mode"),
        ({"fee_bps": 100, "effective_from": "2026-01-01", "board": 999999}, "board"),
        (
            {"fee_bps": 100, "effective_from": "2026-01-01", "effective_until": "2025-01-01"},
            "effective_until",
        ),
    ],
)
def test_bad_rates_are_a_400_naming_the_field(operator_api, payload, field):
    response = operator_api.post(FEES, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not FeeSchedule.objects.exists()


def test_a_second_rate_for_the_same_key_and_day_is_a_400(operator_api):
    payload = {"fee_bps": 100, "effective_from": "2026-01-01"}
    assert operator_api.post(FEES, payload, format="json").status_code == 201
    again = operator_api.post(FEES, payload, format="json")
    assert again.status_code == 400
    assert "effective_from" in again.json()


# --- payouts ----------------------------------------------------------------------------


@pytest.fixture
def confirmed_payout(sold_day, operator, merchant_a):
    day, _orders = sold_day
    batch = clearing_batch_confirm(actor=operator, batch=clearing_run_for_day(business_date=day))
    return Payout.objects.get(batch=batch, merchant=merchant_a)


def test_a_merchant_sees_its_own_payouts_only(merchant_a_api, merchant_b_api, confirmed_payout):
    own = merchant_a_api.get(PAYOUTS).json()["results"]
    assert [p["id"] for p in own] == [confirmed_payout.pk]
    assert own[0]["amount"] == "3780.00"
    assert merchant_b_api.get(PAYOUTS).json()["results"] == []
    detail = reverse("payout-detail", args=[confirmed_payout.pk])
    assert merchant_b_api.get(detail).status_code == 404


def test_only_operators_mark_payouts_paid(operator_api, merchant_a_api, confirmed_payout):
    url = reverse("payout-mark-paid", args=[confirmed_payout.pk])
    assert merchant_a_api.post(url, {}, format="json").status_code == 403
    response = operator_api.post(url, {"bank_reference": "BOC-778"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert response.json()["bank_reference"] == "BOC-778"
    assert (
        account_get(
            kind=AccountKind.MERCHANT_PAYABLE, merchant=confirmed_payout.merchant
        ).balance_fen
        == 0
    )
    assert (
        confirmed_payout.batch.__class__.objects.get(pk=confirmed_payout.batch_id).status
        == "settled"
    )
    # and again: a no-op
    assert operator_api.post(url, {}, format="json").status_code == 200


def test_operator_downloads_the_bank_file(operator_api, merchant_a_api, confirmed_payout):
    url = reverse("payout-export")
    response = operator_api.get(url, {"batch": confirmed_payout.batch_id})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # the bank's import reads the file: no byte-order mark before the first column's name
    assert response.content.startswith(b"reference,")
    assert [r["reference"] for r in rows] == [f"payout:{confirmed_payout.pk}"]
    assert merchant_a_api.get(url, {"batch": confirmed_payout.batch_id}).status_code == 403
    assert operator_api.get(url, {"batch": "x"}).status_code == 400
    assert operator_api.get(url, {"batch": 10**20}).status_code == 400
    assert operator_api.get(url, {"batch": 987654}).status_code == 404


def test_the_bank_file_answers_the_media_type_its_schema_declares(operator_api, confirmed_payout):
    # when an integrator asks for the media type the schema lists
    response = operator_api.get(
        reverse("payout-export"), {"batch": confirmed_payout.batch_id}, HTTP_ACCEPT="text/csv"
    )
    # then it gets the file, not a 406
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


# --- statements -------------------------------------------------------------------------


def test_a_merchant_reads_and_downloads_its_statement(merchant_a_api, merchant_a, sold_day):
    day, _orders = sold_day
    clearing_run_for_day(business_date=day)
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    today = timezone.localdate().isoformat()
    query = {"account": account.pk, "from": day.isoformat(), "to": today}
    body = merchant_a_api.get(STATEMENTS, query).json()
    assert body["opening_balance"] == "0.00"
    assert body["closing_balance"] == "3780.00"
    assert len(body["lines"]) == 4
    assert body["lines"][-1]["balance"] == "3780.00"
    # nothing before the day it was posted (postings carry the time they were written)
    earlier = merchant_a_api.get(
        STATEMENTS, {"account": account.pk, "from": "2020-01-01", "to": "2020-01-31"}
    ).json()
    assert (earlier["opening_balance"], earlier["lines"]) == ("0.00", [])
    download = merchant_a_api.get(STATEMENTS, {**query, "format": "csv"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    text = download.content.decode("utf-8-sig")
    assert download.content.startswith(b"\xef\xbb\xbf")
    # postings at Shanghai wall-clock times, as the JSON's lines read in local time
    posted = [row.split(",")[0] for row in text.splitlines()[4:-1]]
    local = [
        timezone.localtime(dt.datetime.fromisoformat(line["posted_at"])) for line in body["lines"]
    ]
    local = [at.strftime("%Y-%m-%d %H:%M:%S") for at in local]
    assert posted == local
    assert "期初余额,¥0.00" in text
    assert '期末余额,"¥3,780.00"' in text


def test_a_statement_pages_through_its_lines_with_the_running_balance(
    merchant_a_api, merchant_a, sold_day
):
    # given a payable account with four postings from a cleared day
    day, _orders = sold_day
    clearing_run_for_day(business_date=day)
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    query = {"account": account.pk, "from": day.isoformat(), "to": timezone.localdate()}
    whole = merchant_a_api.get(STATEMENTS, query).json()
    # when it is read three lines at a time, following the next link
    first = merchant_a_api.get(STATEMENTS, {**query, "lines": 3}).json()
    second = merchant_a_api.get(first["next"]).json()
    # then the pages hold the same lines and balances as the whole, and the figures are the same
    assert (first["truncated"], second["truncated"], second["next"]) == (True, False, None)
    assert first["lines"] + second["lines"] == whole["lines"]
    for page in (first, second):
        assert (page["opening_balance"], page["closing_balance"]) == ("0.00", "3780.00")
        assert (page["credits"], page["debits"]) == (whole["credits"], whole["debits"])
    # and a cursor changed by hand or taken to another period is refused
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    earlier = (day - dt.timedelta(days=1)).isoformat()
    tampered = {**query, "cursor": cursor[:-2] + "xx"}
    for bad in (tampered, {**query, "from": earlier, "cursor": cursor}):
        response = merchant_a_api.get(STATEMENTS, bad)
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["field"] == "cursor", response.json()


def test_another_merchants_statement_is_a_404(merchant_b_api, merchant_a, sold_day):
    account = account_get(kind=AccountKind.MERCHANT_PAYABLE, merchant=merchant_a)
    response = merchant_b_api.get(
        STATEMENTS, {"account": account.pk, "from": "2026-01-01", "to": "2026-01-31"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-01-01", "to": "2026-01-31"}, "account"),
        ({"account": "abc", "from": "2026-01-01", "to": "2026-01-31"}, "account"),
        ({"account": 10**25, "from": "2026-01-01", "to": "2026-01-31"}, "account"),
        ({"account": 1, "from": "soon", "to": "2026-01-31"}, "from"),
        ({"account": 1, "from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"account": 1, "from": "2020-01-01", "to": "2026-01-31"}, "to"),
    ],
)
def test_statement_queries_with_bad_input_are_a_400(operator_api, query, field):
    response = operator_api.get(STATEMENTS, query)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_operators_read_department_revenue_share_statements(operator_api, merchant_a_api, sold_day):
    day, orders = sold_day
    clearing_run_for_day(business_date=day)
    query = {"from": day.isoformat(), "to": timezone.localdate().isoformat()}
    rows = operator_api.get(DEPARTMENTS, query).json()
    assert len(rows) == 1
    assert rows[0]["department"] == orders[-1].department_id
    assert (rows[0]["share"], rows[0]["orders"], rows[0]["closing_balance"]) == (
        "100.00", 1, "100.00"
    )  # fmt: skip
    csv_bytes = operator_api.get(DEPARTMENTS, {**query, "format": "csv"}).content
    # opened in Excel: UTF-8 with a byte-order mark
    assert csv_bytes.startswith("\ufeff部门编码,部门".encode())
    assert merchant_a_api.get(DEPARTMENTS, query).status_code == 403


# --- data assets ------------------------------------------------------------------------


def test_a_merchant_books_costs_and_exports_its_data_asset_records(
    merchant_a_api, merchant_b_api, merchant_a, sold_day
):
    day, orders = sold_day
    product = orders[0].product
    created = merchant_a_api.post(
        COSTS,
        {"product": product.pk, "incurred_on": day.isoformat(), "category": "storage",
         "amount": "1200.50", "description": "object storage"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    # another merchant can neither book against it nor see it
    refused = merchant_b_api.post(
        COSTS,
        {"product": product.pk, "incurred_on": day.isoformat(), "category": "storage",
         "amount": "1.00"},
        format="json",
    )  # fmt: skip
    assert refused.status_code == 400
    assert "product" in refused.json()
    assert merchant_b_api.get(COSTS).json()["results"] == []
    query = {"from": day.replace(day=1).isoformat(), "to": timezone.localdate().isoformat()}
    records = merchant_a_api.get(ASSETS, query).json()
    revenue = [r for r in records["revenue"] if r["product_id"] == product.pk]
    assert revenue == [
        {
            "product_id": product.pk,
            "product": product.title,
            "month": day.replace(day=1).isoformat(),
            "revenue": "3000.00",
            "orders": 3,
            "buyers": 1,
        }
    ]
    assert [c["amount"] for c in records["costs"]] == ["1200.50"]
    text = merchant_a_api.get(ASSETS, {**query, "format": "csv"}).content.decode()
    assert "收入," in text
    assert "成本," in text
    assert merchant_b_api.get(ASSETS, query).json() == {"revenue": [], "costs": []}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"incurred_on": "2026-01-01", "category": "storage", "amount": "1.00"}, "product"),
        ({"product": 1, "incurred_on": "2026-01-01", "category": "x", "amount": "1.00"},
         "category"),
        ({"product": 1, "incurred_on": "2026-01-01", "category": "storage", "amount": "-1.00"},
         "amount"),
        ({"product": 1, "incurred_on": "2026-01-01", "category": "storage", "amount": "0.001"},
         "amount"),
        ({"product": 1, "incurred_on": "2026-01-01", "category": "storage", "amount": 1.5},
         "amount"),
    ],
)  # fmt: skip
def test_bad_cost_lines_are_a_400_naming_the_field(merchant_a_api, merchant_a, payload, field):
    ProductFactory(provider=merchant_a, listed_at=timezone.now())
    response = merchant_a_api.post(COSTS, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not ProductCostLine.objects.exists()


def test_the_schema_stays_valid(operator_api):
    assert operator_api.get(reverse("api-schema")).status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/api/v1/clearing-batches/abc/", None),
        ("get", "/api/v1/clearing-batches/99999999999999999999999/", None),
        ("get", "/api/v1/clearing-batches/?business_date_from=soon", None),
        ("post", "/api/v1/clearing-batches/abc/confirm/", {}),
        ("get", "/api/v1/payouts/?batch=abc&merchant=-1&status=x", None),
        ("post", "/api/v1/payouts/abc/mark-paid/", {"bank_reference": "x" * 500}),
        ("get", "/api/v1/ledger-accounts/?merchant=abc&kind=x&ordering=nonsense", None),
        ("get", "/api/v1/fee-schedules/?in_force_on=2026-02-30&board=zz", None),
        ("patch", "/api/v1/fee-schedules/abc/", {"fee_bps": "x"}),
        ("get", "/api/v1/department-statements/?from=a&to=b&department=c", None),
        ("get", "/api/v1/data-asset-records/?from=2026-01-01&to=2026-01-31&product=0", None),
        ("get", "/api/v1/product-cost-lines/?incurred_from=x&product=y", None),
        ("post", "/api/v1/product-cost-lines/", {"product": [1], "amount": {"a": 1}}),
    ],
)
def test_garbage_input_is_never_a_server_error(operator_api, method, url, data):
    response = getattr(operator_api, method)(url, data, format="json" if data else None)
    assert response.status_code < 500
    assert response.status_code in (400, 404, 405)
