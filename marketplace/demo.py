"""Demo orders in every trading status, made through the trading services.

Orders are placed between demo merchants for the products the products
seeder listed (context.made["products"], or the listed products in the
database). Cleared and settled orders come from the settlements seeder,
which clears the accepted orders made here.
"""

import datetime as dt
import uuid

from django.utils import timezone

from accounts.models import Merchant, User
from core.demo import DemoContext
from marketplace.choices import OrderStatus
from marketplace.models import Order
from marketplace.services import disputes, orders, refunds
from marketplace.services.payments import PaymentNotice, order_pay
from marketplace.services.usage import month_start, usage_bill_month, usage_record_submit
from products.choices import DataSourceKind, PlanKind, ProductStatus
from products.models import PricingPlan, Product
from publicdata import rules as publicdata_rules

# What each demo order goes through, in turn; the story repeats over the products.
STORIES = [
    "pending",
    "cancelled",
    "paid",
    "delivered",
    "accepted",
    "accepted",
    "auto_accepted",
    "disputed",
    "dispute_split",
    "refunded",
    "partly_refunded",
    "refund_requested",
]
MAX_ORDERS = 150


def _person(merchant: Merchant) -> User:
    """A person acting for the merchant in the demo. Without a usable password: demo
    actors only appear in order histories; hashing one per merchant would slow the seed."""
    person = merchant.people.order_by("pk").first()
    if person is None:
        person = User(username=f"trader-{merchant.pk}", merchant=merchant,
                      merchant_role="staff", is_staff=True)  # fmt: skip
        person.set_unusable_password()
        person.save()
    return person


def _pay(order: Order) -> Order:
    notice = PaymentNotice(
        order_number=order.number,
        amount_fen=order.amount_fen,
        channel_reference=f"DEMO{order.pk:08d}",
        nonce=uuid.uuid4().hex,
        sent_at=timezone.now(),
    )
    return order_pay(notice=notice)[0]


def _tell(order: Order, story: str, operator: User | None) -> None:
    buyer, seller = _person(order.buyer), _person(order.seller)
    if order.status == OrderStatus.PENDING_PAYMENT:
        if story == "pending":
            return
        if story == "cancelled":
            orders.order_cancel(actor=buyer, order=order, reason="bought the wrong plan")
            return
        order = _pay(order)
    elif story in ("pending", "cancelled"):
        return  # a free order is paid the moment it is placed
    if story == "paid":
        return
    if story == "refunded" and order.escrow_fen:
        refunds.order_refund(actor=operator, order=order, reason="duplicate purchase")
        return
    order = orders.order_deliver(
        actor=seller, order=order, note="delivered through the API gateway"
    )
    if story == "delivered":
        return
    if story == "refund_requested" and order.escrow_fen >= 2:
        refunds.order_refund_request(actor=buyer, order=order, amount_fen=order.escrow_fen // 2,
                                 reason="half the coverage is missing")  # fmt: skip
        return
    if story in ("disputed", "dispute_split"):
        disputes.order_dispute_open(
            actor=buyer, order=order, reason="fields differ from the manual"
        )
        if story == "dispute_split" and order.escrow_fen >= 4 and operator is not None:
            disputes.order_dispute_resolve(actor=operator, order=order, outcome="split",
                                      refund_fen=order.escrow_fen // 4,
                                      reason="a quarter of the records were late")  # fmt: skip
        return
    if story == "partly_refunded" and order.escrow_fen >= 10:
        refunds.order_refund(actor=seller, order=order, amount_fen=order.escrow_fen // 10,
                         reason="one day of data missing")  # fmt: skip
    if story == "auto_accepted":
        # delivered long enough ago for the daily job to accept it
        Order.objects.filter(pk=order.pk).update(
            delivered_at=timezone.now() - dt.timedelta(days=30)
        )
        return
    orders.order_accept(actor=buyer, order=order, reason="data as described")


def _scenario_for(product: Product):
    if product.source_kind != DataSourceKind.PUBLIC:
        return None
    for scenario in product.scenarios.all():
        if publicdata_rules.scenario_in_force(scenario):
            return scenario
    return False  # public data with no scenario in force cannot be sold


def seed(context: DemoContext) -> None:
    products = context.made.get("products")
    if products is None:
        products = Product.objects.filter(status=ProductStatus.LISTED).order_by("pk")[:MAX_ORDERS]
    products = [p for p in products if p.status == ProductStatus.LISTED]
    buyers = [m for m in context.made.get("merchants", []) if m.is_active]
    operator = context.made.get("operator")
    if not products or len(buyers) < 2:
        context.write("  no listed products or too few merchants: no demo orders")
        return
    # Buyers that sell nothing, where there are any, so the demo has no
    # circular trades for the audit's suspicious-trade sweep to report.
    provider_ids = {p.provider_id for p in products}
    buyers = [b for b in buyers if b.pk not in provider_ids] or buyers
    # Every story at least twice, even over a handful of products.
    total = min(MAX_ORDERS, max(len(products), 2 * len(STORIES)))
    made = 0
    for i in range(total):
        product = products[i % len(products)]
        plans = [
            p
            for p in PricingPlan.objects.filter(product=product, is_active=True).order_by("pk")
            if p.kind != PlanKind.METERED
        ]
        scenario = _scenario_for(product)
        candidates = [b for b in buyers if b.pk != product.provider_id]
        if not plans or scenario is False or not candidates:
            continue
        plan = plans[i % len(plans)]
        buyer = candidates[context.rng.randrange(len(candidates))]
        order = orders.order_place(
            actor=_person(buyer),
            buyer=buyer,
            plan=plan,
            quantity=1 if plan.kind == PlanKind.FREE else context.rng.randint(1, 3),
            scenario=scenario,
        )
        _tell(order, STORIES[i % len(STORIES)], operator)
        made += 1
        context.progress("orders", i + 1, total)
    # Delivered 30 days ago: accept them the way the daily job does.
    orders.orders_auto_accept()
    # The buyer-accepted orders are dated yesterday, as if accepted in the last
    # business day, so the settlement demo has a real day to clear tonight's way.
    Order.objects.filter(
        status=OrderStatus.ACCEPTED, delivered_at__gte=timezone.now() - dt.timedelta(days=1)
    ).update(accepted_at=timezone.now() - dt.timedelta(days=1))
    _seed_usage(context, buyers)
    context.made["orders"] = list(Order.objects.order_by("pk").values_list("pk", flat=True))
    context.write(f"  {Order.objects.count()} orders")


def _seed_usage(context: DemoContext, buyers: list[Merchant]) -> None:
    """Last month's calls to metered plans, billed the way the monthly job bills them."""
    plans = PricingPlan.objects.filter(
        kind=PlanKind.METERED, is_active=True, product__status=ProductStatus.LISTED
    ).select_related("product__provider")[:5]
    last_month = month_start(month_start(timezone.localdate()) - dt.timedelta(days=1))
    for plan in plans:
        for buyer in [b for b in buyers if b.pk != plan.product.provider_id][:3]:
            for day in (3, 11, 19):
                usage_record_submit(
                    actor=None,
                    seller=plan.product.provider,
                    record_id=f"demo-{plan.pk}-{buyer.pk}-{day}",
                    buyer=buyer,
                    plan=plan,
                    calls=context.rng.randint(200, 5000),
                    used_at=timezone.make_aware(
                        dt.datetime.combine(last_month.replace(day=day), dt.time(10))
                    ),
                )
    usage_bill_month(month=last_month)
