"""`manage.py seed_demo`: the report's exchange at a small scale, consistent and repeatable."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.credit_code import validate_credit_code
from accounts.models import Merchant
from core.demo import REPORT, scaled
from marketplace.models import Dispute, Order, Refund
from oversight.choices import AuditTrigger
from oversight.models import AuditRun
from oversight.services.audit import audit_run_execute
from oversight.services.chain import chain_verify
from oversight.services.stats import stats_latest
from products.models import Product
from publicdata.models import CatalogEntry, Grant, Scenario
from settlements.models import ClearingBatch, JournalEntry, LedgerAccount, Payout
from tests.factories.accounts import MerchantFactory

pytestmark = pytest.mark.django_db

SCALE = 0.02


def seed(scale=SCALE, seed=7, **options):
    out = io.StringIO()
    call_command("seed_demo", scale=scale, seed=seed, quiet=True, stdout=out, **options)
    return out.getvalue()


@pytest.mark.postgres
def test_every_figure_lands_where_the_scale_puts_it_and_the_audit_finds_nothing():
    # when the demo is seeded at a small scale
    seed()
    # then the registry, the catalog and the weather board hold the report's figures, scaled
    assert Merchant.objects.filter(status="active").count() == scaled(REPORT["merchants"], SCALE)
    for merchant in Merchant.objects.all():
        # a valid credit code, registered in the merchant's own city
        assert validate_credit_code(merchant.credit_code) == merchant.credit_code
        assert merchant.credit_code[2:6] == merchant.region[:4]
    banks = Merchant.objects.order_by().values("bank_name").distinct().count()
    assert banks > 1
    listed = Product.objects.filter(status="listed")
    assert listed.count() == scaled(REPORT["listed_products"], SCALE)
    weather = listed.filter(board__code="weather", board__department__name="湖南省气象局")
    assert weather.count() == scaled(REPORT["weather_products"], SCALE)
    assert weather.aggregate(v=Sum("volume_bytes"))["v"] == round(
        REPORT["weather_volume_bytes"] * SCALE
    )
    for status in ("draft", "submitted", "in_review", "suspended", "delisted"):
        assert Product.objects.filter(status=status).exists(), status
    assert CatalogEntry.objects.filter(department__level="province").count() == scaled(
        REPORT["provincial_entries"], SCALE
    )
    assert CatalogEntry.objects.filter(department__level="city").count() == scaled(
        REPORT["city_entries"], SCALE
    )
    # grants of the four departments the report names, the 16 + 1 scenarios authorized
    granted = set(Grant.objects.filter(status="active").values_list("department__name", flat=True))
    assert {"湖南省公安厅", "湖南省自然资源厅", "湖南省市场监督管理局", "湖南省气象局"} <= granted
    authorized = Scenario.objects.filter(status="authorized")
    assert authorized.filter(name__startswith="长沙").count() == REPORT["changsha_scenarios"]
    assert authorized.filter(name__startswith="岳阳金融港").count() == 1
    # turnover past the report's 1.2 billion (scaled), by less than 1 %
    turnover = stats_latest().document["turnover"]["cumulative_fen"]
    expected = REPORT["turnover_fen"] * SCALE
    assert expected <= turnover <= expected * 1.01
    paid = Order.objects.filter(paid_at__isnull=False)
    assert paid.aggregate(s=Sum("amount_fen") - Sum("refunded_fen"))["s"] == turnover
    # refunds and disputes happened; no order was accepted before it was paid and delivered
    assert Refund.objects.exists()
    assert Dispute.objects.exists()
    for order in Order.objects.exclude(accepted_at=None):
        assert order.paid_at is not None
        assert order.delivered_at is not None
        assert order.accepted_at is not None
        assert order.paid_at <= order.delivered_at <= order.accepted_at
    # every public-data order went through an authorized scenario of its grant
    for order in Order.objects.exclude(grant=None).select_related("scenario"):
        assert order.scenario.grant_id == order.grant_id
        assert order.scenario.status == "authorized"
    # every past business day was cleared and settled, its payouts paid or carried over
    today = timezone.localdate()
    assert not Order.objects.filter(
        status="accepted", accepted_at__lt=timezone.now() - dt.timedelta(days=1)
    ).exists()
    batches = ClearingBatch.objects.all()
    assert batches.exclude(status="settled").count() == 0
    assert batches.latest("business_date").business_date == today - dt.timedelta(days=1)
    assert batches.count() == (today - batches.earliest("business_date").business_date).days
    assert not Payout.objects.filter(status="pending").exists()
    assert Payout.objects.filter(status="paid").exists()
    assert Order.objects.filter(status="settled").exclude(clearing_batch=None).exists()
    # the audit the seeding ran and a fresh full sweep find nothing; the chain verifies
    assert AuditRun.objects.get(trigger=AuditTrigger.DEMO).total_problems == 0
    queued = AuditRun.objects.create(trigger=AuditTrigger.OPERATOR, full_chain_verify=True)
    run = audit_run_execute(run_id=queued.pk, full_chain_verify=True)
    assert run is not None
    assert run.status == "finished"
    assert run.total_problems == 0, run.counts
    problems, verified = chain_verify(full=True)
    assert problems == []
    assert verified > 0
    assert LedgerAccount.objects.aggregate(s=Sum("balance_fen"))["s"] == 0
    assert JournalEntry.objects.filter(purpose="clearing").exists()


def _fingerprint() -> dict:
    """The seeded rows, by their business identity (not the service-made surrogate ids)."""
    return {
        "merchants": list(
            Merchant.objects.order_by("credit_code").values_list(
                "credit_code", "legal_name", "region", "contact_name", "bank_account_number",
                "status", "created_at",
            )
        ),
        "products": list(
            Product.objects.order_by("title", "created_at").values_list(
                "title", "status", "registration_number", "provider__credit_code",
                "delivery_mode", "volume_bytes", "min_price_fen", "listed_at",
            )
        ),
        "entries": list(CatalogEntry.objects.order_by("code").values_list("code", "name")),
        "orders": list(
            Order.objects.order_by("number").values_list(
                "number", "buyer__credit_code", "seller__credit_code", "amount_fen",
                "refunded_fen", "status", "paid_at", "accepted_at",
            )
        ),
        "ledger": list(
            LedgerAccount.objects.order_by("kind", "merchant__credit_code", "department__code")
            .values_list("kind", "merchant__credit_code", "department__code", "balance_fen")
        ),
    }  # fmt: skip


def _seeded_fingerprint(seed_number: int) -> dict:
    with transaction.atomic():
        seed(scale=0.01, seed=seed_number)
        fingerprint = _fingerprint()
        transaction.set_rollback(True)
    return fingerprint


@pytest.mark.postgres
def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    first = _seeded_fingerprint(11)
    again = _seeded_fingerprint(11)
    other = _seeded_fingerprint(12)
    assert first["orders"]
    assert first["products"]
    for table in first:
        assert first[table] == again[table], table
    assert first["merchants"] != other["merchants"]
    assert first["orders"] != other["orders"]


def test_if_empty_leaves_a_database_with_merchants_alone():
    # given a database that already holds a merchant
    MerchantFactory()
    # when seeding with --if-empty
    output = seed(if_empty=True)
    # then nothing is added, and it says so
    assert Merchant.objects.count() == 1
    assert not Product.objects.exists()
    assert "already present" in output
    # and without the flag it refuses rather than adding a second exchange on top
    with pytest.raises(CommandError, match="already holds merchants"):
        seed()
    assert Merchant.objects.count() == 1


def test_the_scale_must_be_positive():
    with pytest.raises(CommandError, match="--scale"):
        seed(scale=0)
