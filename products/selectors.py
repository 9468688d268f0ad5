"""Reads of the market: every provider's listed products, as buyers browse them.

Not narrowed by core.scoping on purpose: a listing is published to every
signed-in role (as /api/v1/market/ and the DCAT catalog publish it). Only
listed products and the plans on sale appear; drafts, reviews and orders stay
behind the scoped pages.
"""

from django.db.models import Prefetch, Q, QuerySet

from products.choices import ProductStatus
from products.models import Board, Industry, PricingPlan, Product


def market_product_list(
    *,
    board: Board | None = None,
    industry: Industry | None = None,
    delivery_mode: str = "",
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
    search: str = "",
) -> QuerySet[Product]:
    """Listed products, newest listed first, filtered by what a buyer chooses by."""
    products = Product.objects.filter(status=ProductStatus.LISTED).select_related(
        "provider", "industry", "board"
    )
    if board is not None:
        products = products.filter(board=board)
    if industry is not None:
        products = products.filter(industry=industry)
    if delivery_mode:
        products = products.filter(delivery_mode=delivery_mode)
    if price_min_fen is not None:
        products = products.filter(min_price_fen__gte=price_min_fen)
    if price_max_fen is not None:
        products = products.filter(min_price_fen__lte=price_max_fen)
    if search:
        products = products.filter(
            Q(title__icontains=search) | Q(summary__icontains=search) | Q(tags__icontains=search)
        )
    return products.order_by("-listed_at", "-id")


def market_product_get(*, pk: int) -> Product:
    """One listed product with its plans on sale; Product.DoesNotExist if it is not listed."""
    return (
        Product.objects.filter(status=ProductStatus.LISTED)
        .select_related("provider", "industry", "board", "grant__department")
        .prefetch_related(
            Prefetch(
                "plans",
                queryset=PricingPlan.objects.filter(is_active=True).order_by("id"),
                to_attr="plans_on_sale",
            ),
            "scenarios",
        )
        .get(pk=pk)
    )
