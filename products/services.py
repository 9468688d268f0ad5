"""Writes for products, plans and the listing review."""

from accounts.models import Merchant, User


def products_follow_merchant_status(*, actor: User, merchant: Merchant, reason: str) -> int:
    """Suspend a suspended or exited merchant's listed products; reinstate them with it.

    Returns how many products changed. Filled in by the products issue.
    """
    return 0
