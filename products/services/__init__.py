"""Writes for products, plans, the listing review and product revisions.

Split by subject: `editing` (drafts and their plans), `listing` (the review
and the listing lifecycle), `revisions` (new versions of listed products),
`review` (the review rules both of those follow) and `registration` (登记号).
Other apps import from `products.services`.
"""

from products.services.editing import (
    plan_create,
    plan_delete,
    plan_update,
    product_create,
    product_update,
)
from products.services.listing import (
    product_approve,
    product_delist,
    product_reinstate,
    product_reinstate_by_operator,
    product_reject,
    product_request_delisting,
    product_start_review,
    product_submit,
    product_suspend,
    product_withdraw,
    products_follow_merchant_status,
)
from products.services.reference import board_save, industry_save
from products.services.registration import registration_number_issue
from products.services.revisions import (
    revision_approve,
    revision_open,
    revision_plan_create,
    revision_plan_delete,
    revision_plan_update,
    revision_reject,
    revision_start_review,
    revision_submit,
    revision_update,
    revision_withdraw,
)

__all__ = [
    "board_save",
    "industry_save",
    "plan_create",
    "plan_delete",
    "plan_update",
    "product_approve",
    "product_create",
    "product_delist",
    "product_reinstate",
    "product_reinstate_by_operator",
    "product_reject",
    "product_request_delisting",
    "product_start_review",
    "product_submit",
    "product_suspend",
    "product_update",
    "product_withdraw",
    "products_follow_merchant_status",
    "registration_number_issue",
    "revision_approve",
    "revision_open",
    "revision_plan_create",
    "revision_plan_delete",
    "revision_plan_update",
    "revision_reject",
    "revision_start_review",
    "revision_submit",
    "revision_update",
    "revision_withdraw",
]
