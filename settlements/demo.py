"""Demo settlement data: fee schedules, then a past day cleared and confirmed, some costs.

Runs after the marketplace seeder; if it made accepted orders on past days,
the most recent of those days (up to three) are cleared through the real
services, the earliest is confirmed and half of its payouts are marked paid.
Without such orders, yesterday is cleared (empty) and confirmed.
"""

import datetime as dt

from django.utils import timezone

from core.demo import DemoContext
from core.filters import local_day_start
from marketplace.choices import OrderStatus
from marketplace.models import Order
from products.models import Board, Product
from settlements.choices import CostCategory, PayoutStatus
from settlements.services.assets import cost_line_create
from settlements.services.clearing import clearing_run_for_day
from settlements.services.fees import fee_schedule_create
from settlements.services.payouts import clearing_batch_confirm, payout_mark_paid

FEES_FROM = dt.date(2024, 1, 1)


def seed(context: DemoContext) -> None:
    operator = context.made.get("operator")
    fee_schedule_create(
        actor=operator, fee_bps=300, effective_from=FEES_FROM, note="Default commission 3 %"
    )
    fee_schedule_create(
        actor=operator,
        fee_bps=250,
        delivery_mode="report",
        effective_from=FEES_FROM,
        note="Data reports 2.5 %",
    )
    board = Board.objects.order_by("pk").first()
    if board is not None:
        fee_schedule_create(
            actor=operator,
            board=board,
            fee_bps=200,
            effective_from=FEES_FROM,
            note=f"{board.name}: 2 % to grow the board",
        )
    context.write("  fee schedules: default 3 %, reports 2.5 %, first board 2 %")

    today = timezone.localdate()
    days = list(
        Order.objects.filter(status=OrderStatus.ACCEPTED, accepted_at__lt=local_day_start(today))
        .dates("accepted_at", "day")
        .order_by("-accepted_at")[:3]
    )
    if not days:
        # The trading demo accepts its orders today; they clear at 01:00 tonight.
        # Clearing yesterday still shows the batch's life (an empty day settles
        # on confirmation).
        days = [today - dt.timedelta(days=1)]
    batches = [clearing_run_for_day(business_date=day, actor=operator) for day in sorted(days)]
    for batch in batches:
        context.write(f"  cleared {batch.business_date}: {batch.order_count} orders")
    if batches:
        first = clearing_batch_confirm(actor=operator, batch=batches[0], reason="demo")
        pending = list(first.payouts.filter(status=PayoutStatus.PENDING).order_by("pk"))
        for payout in pending[: (len(pending) + 1) // 2]:
            payout_mark_paid(actor=operator, payout=payout, bank_reference=f"DEMO-{payout.pk}")
        context.write(f"  confirmed {first.business_date}: {first.payouts.count()} payouts")

    products = list(Product.objects.filter(status="listed").order_by("pk")[:6])
    categories = list(CostCategory.values)
    for i, product in enumerate(products):
        for month_back in range(2):
            cost_line_create(
                actor=operator,
                product=product,
                incurred_on=today.replace(day=1) - dt.timedelta(days=30 * month_back),
                category=categories[(i + month_back) % len(categories)],
                amount_fen=context.rng.randint(50_00, 5_000_00),
                description="demo cost",
            )
    if products:
        context.write(f"  cost lines: {2 * len(products)} on {len(products)} products")
