"""Reads for a merchant's landing page (its desk): what waits on it and what it holds.

Every figure is read through core.scoping for the person signed in, and then
narrowed to the side of the order that waits on the merchant, so the desk
never counts another merchant's records.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.formatting import format_yuan
from core.scoping import merchant_id_of, scope_to_merchant
from marketplace.choices import OrderStatus, RefundStatus
from marketplace.models import Order
from products.choices import OPEN_REVISION_STATUSES, ProductStatus, Verdict
from products.models import Product, ProductReview, ProductRevision
from settlements.choices import AccountKind, PayoutStatus
from settlements.models import LedgerAccount, Payout

# How many orders of each waiting kind the desk names; the link shows them all.
ORDERS_SHOWN = 5


@dataclass
class DeskTile:
    """One thing on the desk: a count, what it means, where to act on it."""

    key: str
    label: str | Promise
    count: int
    url: str
    action: str | Promise
    orders: list[Order] = field(default_factory=list)


@dataclass
class Balance:
    kind: str
    label: str | Promise
    help: str | Promise
    balance_fen: int
    statement_url: str | None

    @property
    def yuan(self) -> str:
        return format_yuan(self.balance_fen)


@dataclass
class Desk:
    products: list[DeskTile]
    orders: list[DeskTile]
    balances: list[Balance]
    next_payout: Payout | None
    payouts_url: str
    market_url: str
    add_product_url: str

    @property
    def next_payout_yuan(self) -> str | None:
        return None if self.next_payout is None else format_yuan(self.next_payout.amount_fen)


def _changelist(name: str, **params) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _order_tile(key, label, action, queryset: QuerySet[Order], url: str) -> DeskTile:
    queryset = queryset.select_related("product").order_by("created_at", "id")
    return DeskTile(
        key=key,
        label=label,
        count=queryset.count(),
        url=url,
        action=action,
        orders=list(queryset[:ORDERS_SHOWN]),
    )


def _product_tiles(user) -> list[DeskTile]:
    products = scope_to_merchant(Product.objects.all(), user)
    counts = dict(products.values_list("status").annotate(n=Count("id")).order_by())
    last_verdict = Subquery(
        ProductReview.objects.filter(product=OuterRef("pk"), revision__isnull=True)
        .order_by("-created_at", "-id")
        .values("verdict")[:1]
    )
    returned = (
        products.filter(status=ProductStatus.DRAFT)
        .annotate(last_verdict=last_verdict)
        .filter(last_verdict=Verdict.REJECTED)
        .count()
    )
    tiles = [
        DeskTile(
            key=status.value,
            label=status.label,
            count=counts.get(status.value, 0),
            url=_changelist("products_product", status__exact=status.value),
            action=_("Open"),
        )
        for status in ProductStatus
    ]
    tiles.append(
        DeskTile(
            key="returned",
            label=_("Returned by the reviewers (answer and resubmit)"),
            count=returned,
            url=_changelist("products_product", status__exact=ProductStatus.DRAFT),
            action=_("Answer"),
        )
    )
    revisions = scope_to_merchant(ProductRevision.objects.all(), user)
    tiles.append(
        DeskTile(
            key="revisions",
            label=_("New versions being prepared or reviewed"),
            count=revisions.filter(status__in=OPEN_REVISION_STATUSES).count(),
            url=_changelist("products_productrevision"),
            action=_("Open"),
        )
    )
    return tiles


def _order_tiles(user, merchant_id: int) -> list[DeskTile]:
    orders = scope_to_merchant(Order.objects.all(), user)
    return [
        _order_tile(
            "to_deliver",
            _("Sales to deliver"),
            _("Deliver"),
            orders.filter(seller_id=merchant_id, status=OrderStatus.PAID),
            _changelist("marketplace_order", side="sales", status__exact=OrderStatus.PAID),
        ),
        _order_tile(
            "to_accept",
            _("Deliveries to accept or dispute"),
            _("Accept or dispute"),
            orders.filter(buyer_id=merchant_id, status=OrderStatus.DELIVERED, is_disputed=False),
            _changelist(
                "marketplace_order",
                side="purchases",
                status__exact=OrderStatus.DELIVERED,
                is_disputed__exact=0,
            ),
        ),
        _order_tile(
            "to_pay",
            _("Purchases waiting for payment"),
            _("Pay"),
            orders.filter(buyer_id=merchant_id, status=OrderStatus.PENDING_PAYMENT),
            _changelist(
                "marketplace_order", side="purchases", status__exact=OrderStatus.PENDING_PAYMENT
            ),
        ),
        _order_tile(
            "refund_requests",
            _("Refund requests to answer"),
            _("Answer"),
            orders.filter(seller_id=merchant_id, refunds__status=RefundStatus.REQUESTED).distinct(),
            _changelist("marketplace_order", side="sales"),
        ),
        _order_tile(
            "disputes",
            _("Open disputes"),
            _("Follow"),
            orders.filter(is_disputed=True),
            _changelist("marketplace_order", is_disputed__exact=1),
        ),
    ]


BALANCES = (
    (
        AccountKind.MERCHANT_ESCROW,
        _("Held in escrow for your purchases until they are cleared."),
    ),
    (
        AccountKind.MERCHANT_PAYABLE,
        _("Your sales' net, cleared and owed to you until it is paid out."),
    ),
)


def _balances(user) -> list[Balance]:
    accounts = {a.kind: a for a in scope_to_merchant(LedgerAccount.objects.all(), user)}
    result = []
    for kind, help_text in BALANCES:
        account = accounts.get(kind)
        result.append(
            Balance(
                kind=kind.value,
                label=kind.label,
                help=help_text,
                balance_fen=account.balance_fen if account else 0,
                statement_url=reverse(
                    "admin:settlements_ledgeraccount_statement", args=[account.pk]
                )
                if account
                else None,
            )
        )
    return result


def merchant_desk(*, user) -> Desk:
    """What a merchant's person sees first: products by status, waiting orders, money."""
    merchant_id = merchant_id_of(user)
    if merchant_id is None:
        raise ValueError("the desk is a merchant's page")
    payouts = scope_to_merchant(Payout.objects.all(), user).select_related("batch")
    return Desk(
        products=_product_tiles(user),
        orders=_order_tiles(user, merchant_id),
        balances=_balances(user),
        next_payout=payouts.filter(status=PayoutStatus.PENDING).order_by("created_at").first(),
        payouts_url=_changelist("settlements_payout"),
        market_url=reverse("admin:market"),
        add_product_url=reverse("admin:products_product_add"),
    )
