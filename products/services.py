"""Writes for products, plans and the listing review."""

from django.db import transaction

from accounts.choices import MerchantStatus
from accounts.models import Merchant, User
from core.transitions import lock_in_pk_order, lock_one, transition
from products.choices import PRODUCT_TRANSITIONS, ProductStatus, SuspensionCause
from products.models import Product


@transaction.atomic
def product_suspend(
    *, actor: User | None, product: Product, reason: str, cause: str = SuspensionCause.OPERATOR
) -> Product:
    """listed -> suspended, remembering the cause. A suspended product keeps its first cause."""
    product = lock_one(Product, product.pk)
    if product.status == ProductStatus.SUSPENDED:
        return product
    transition(
        product,
        to=ProductStatus.SUSPENDED,
        actor=actor,
        reason=reason,
        transitions=PRODUCT_TRANSITIONS,
        changes={"suspension_cause": cause},
    )
    return product


@transaction.atomic
def product_reinstate(
    *, actor: User | None, product: Product, reason: str, cause: str | None = None
) -> Product:
    """suspended -> listed. With `cause`, only a product suspended for that cause returns."""
    product = lock_one(Product, product.pk)
    if cause is not None and product.suspension_cause != cause:
        return product
    transition(
        product,
        to=ProductStatus.LISTED,
        actor=actor,
        reason=reason,
        transitions=PRODUCT_TRANSITIONS,
        changes={"suspension_cause": ""},
    )
    return product


def products_follow_merchant_status(*, actor: User, merchant: Merchant, reason: str) -> int:
    """Suspend a suspended or exited merchant's listed products; reinstate them with it.

    Only products suspended because of the merchant come back on reinstatement.
    Returns how many products changed.
    """
    if merchant.status in (MerchantStatus.SUSPENDED, MerchantStatus.EXITED):
        ids = Product.objects.filter(provider=merchant, status=ProductStatus.LISTED).values_list(
            "pk", flat=True
        )
        products = lock_in_pk_order(Product, ids)
        for product in products:
            product_suspend(
                actor=actor, product=product, reason=reason, cause=SuspensionCause.MERCHANT
            )
        return len(products)
    if merchant.status == MerchantStatus.ACTIVE:
        ids = Product.objects.filter(
            provider=merchant,
            status=ProductStatus.SUSPENDED,
            suspension_cause=SuspensionCause.MERCHANT,
        ).values_list("pk", flat=True)
        products = lock_in_pk_order(Product, ids)
        for product in products:
            product_reinstate(actor=actor, product=product, reason=reason)
        return len(products)
    return 0
