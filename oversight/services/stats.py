"""Exchange statistics: computed by a beat task into a snapshot, read from the snapshot.

Turnover (交易额) is defined as the gross of every order that was paid (its
`paid_at` is set) minus what was refunded on it: sum(amount_fen - refunded_fen).
An order counts in the month (Asia/Shanghai) it was paid, on the board it was
bought on and in its seller's region. Orders never paid count nothing; a fully
refunded order counts zero.
"""

import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import KIND_FIELDS, MerchantStatus, Region
from accounts.models import Merchant
from marketplace.models import Order
from oversight.conf import setting
from oversight.models import StatsSnapshot
from products.choices import DeliveryMode, ProductStatus
from products.models import Product

# Products and orders that belong to no trading board are grouped under this label.
OFF_BOARD = _("Not on a trading board")

TURNOVER_DEFINITION = (
    "Gross of paid orders minus refunds: sum(amount - refunded) over orders with a "
    "payment time, by the month (Asia/Shanghai) of payment, the order's board and "
    "the seller's region."
)


def _merchant_figures() -> dict:
    by_status = dict(
        Merchant.objects.values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    kinds = Merchant.objects.aggregate(
        **{kind: Count("id", filter=Q(**{field: True})) for kind, field in KIND_FIELDS.items()}
    )
    by_region = dict(
        Merchant.objects.values("region").annotate(n=Count("id")).values_list("region", "n")
    )
    labels = dict(Region.choices)
    return {
        "total": sum(by_status.values()),
        "by_status": {s: by_status.get(s, 0) for s in MerchantStatus.values},
        "by_kind": {str(kind): kinds[kind] for kind in KIND_FIELDS},
        "by_region": [
            {"region": code, "name": str(labels.get(code, code)), "count": by_region.get(code, 0)}
            for code in Region.values
        ],
    }


def _product_figures() -> tuple[dict, dict]:
    listed = Product.objects.filter(status=ProductStatus.LISTED)
    boards = list(
        listed.values("board__code", "board__name")
        .annotate(n=Count("id"), volume=Sum("volume_bytes"))
        .order_by("board__code")
    )
    industries = (
        listed.values("industry__code", "industry__name")
        .annotate(n=Count("id"))
        .order_by("industry__code")
    )
    modes = dict(
        listed.values("delivery_mode").annotate(n=Count("id")).values_list("delivery_mode", "n")
    )
    products = {
        "listed": sum(b["n"] for b in boards),
        "by_board": [
            {
                "board": b["board__code"] or "",
                "name": b["board__name"] or str(OFF_BOARD),
                "count": b["n"],
            }
            for b in boards
        ],
        "by_industry": [
            {"industry": i["industry__code"], "name": i["industry__name"], "count": i["n"]}
            for i in industries
        ],
        "by_delivery_mode": {m: modes.get(m, 0) for m in DeliveryMode.values},
    }
    volume = {
        "total_bytes": sum(b["volume"] or 0 for b in boards),
        "by_board": [
            {
                "board": b["board__code"] or "",
                "name": b["board__name"] or str(OFF_BOARD),
                "bytes": b["volume"] or 0,
            }
            for b in boards
        ],
    }
    return products, volume


def _turnover_figures() -> dict:
    paid = Order.objects.filter(paid_at__isnull=False)
    net = Sum(F("amount_fen") - F("refunded_fen"))
    cumulative = paid.aggregate(s=net, n=Count("id"))
    by_month = (
        paid.annotate(month=TruncMonth("paid_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
        .values("month")
        .annotate(s=net, n=Count("id"))
        .order_by("month")
    )
    by_board = (
        paid.values("board__code", "board__name")
        .annotate(s=net, n=Count("id"))
        .order_by("board__code")
    )
    by_region = dict(
        paid.values("seller__region").annotate(s=net).values_list("seller__region", "s")
    )
    labels = dict(Region.choices)
    return {
        "definition": TURNOVER_DEFINITION,
        "cumulative_fen": cumulative["s"] or 0,
        "paid_orders": cumulative["n"],
        "by_month": [
            {"month": m["month"].strftime("%Y-%m"), "turnover_fen": m["s"] or 0, "orders": m["n"]}
            for m in by_month
        ],
        "by_board": [
            {
                "board": b["board__code"] or "",
                "name": b["board__name"] or str(OFF_BOARD),
                "turnover_fen": b["s"] or 0,
                "orders": b["n"],
            }
            for b in by_board
        ],
        "by_region": [
            {
                "region": code,
                "name": str(labels.get(code, code)),
                "turnover_fen": by_region.get(code) or 0,
            }
            for code in Region.values
        ],
    }


def stats_compute() -> dict:
    """Every figure of the statistics, from a handful of grouped queries."""
    products, volume = _product_figures()
    return {
        "merchants": _merchant_figures(),
        "products": products,
        "data_volume": volume,
        "turnover": _turnover_figures(),
    }


def stats_refresh() -> StatsSnapshot:
    """Compute the statistics and store them as the newest snapshot; keep the last few.

    Invariant: a snapshot's figures come from one transaction, so its totals agree.
    """
    started = time.monotonic()
    with transaction.atomic():
        document = stats_compute()
    snapshot = StatsSnapshot.objects.create(
        computed_at=timezone.now(),
        duration_ms=int((time.monotonic() - started) * 1000),
        document=document,
    )
    keep = StatsSnapshot.objects.order_by("-computed_at", "-id").values_list("id", flat=True)[
        : setting("EXCHANGE_STATS_KEEP")
    ]
    StatsSnapshot.objects.exclude(pk__in=list(keep)).delete()
    return snapshot


def stats_latest() -> StatsSnapshot | None:
    return StatsSnapshot.objects.order_by("-computed_at", "-id").first()


def present(value):
    """The document as the API shows it: each `x_fen` integer becomes `x` in yuan."""
    from core.money import fen_to_yuan

    if isinstance(value, dict):
        shown = {}
        for key, item in value.items():
            if key.endswith("_fen") and (item is None or isinstance(item, int)):
                shown[key[: -len("_fen")]] = None if item is None else fen_to_yuan(item)
            else:
                shown[key] = present(item)
        return shown
    if isinstance(value, list):
        return [present(item) for item in value]
    return value
