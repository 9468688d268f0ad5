"""The one mechanism that decides which rows a person may see.

Every model that people reach through the admin or the API declares
`merchant_scope`: a tuple of lookup paths from the model to the merchant(s)
that own a row. Operators see every row; a merchant's people see the rows
where any of those paths leads to their merchant; anybody else sees nothing.

Two special values: `PUBLIC` (reference data every signed-in role may read)
and `()` (operator-only records such as audit findings).

Within a merchant, people have one of two roles. The owner (负责人) answers
for the company: its profile, its bank account and its people. Staff (员工)
work on products and orders. A model whose rows only the owner may write
declares `merchant_write_role = OWNER_ROLE`; every other merchant-owned model
is written by owner and staff alike. Both roles read everything of their
merchant.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

PUBLIC = "__public__"
OWNER_ROLE = "owner"
STAFF_ROLE = "staff"


def is_operator(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (getattr(user, "is_operator", False) or user.is_superuser)
    )


def merchant_id_of(user) -> int | None:
    """The merchant a signed-in person works for, or None (operators, anonymous)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return getattr(user, "merchant_id", None)


def merchant_role_of(user) -> str | None:
    """'owner' or 'staff' for a merchant's active person; None for anyone else."""
    if merchant_id_of(user) is None:
        return None
    return getattr(user, "merchant_role", "") or None


def is_merchant_owner(user) -> bool:
    return merchant_role_of(user) == OWNER_ROLE


def role_may_write(user, model) -> bool:
    """Whether `user`'s role lets them write `model` rows at all (scoping decides which rows).

    Operators write what their admin and API allow; the owner writes
    everything of the merchant; staff all but the owner's models.
    """
    if is_operator(user):
        return True
    role = merchant_role_of(user)
    if role is None:
        return False
    return role == OWNER_ROLE or getattr(model, "merchant_write_role", STAFF_ROLE) != OWNER_ROLE


def has_exchange_role(user) -> bool:
    return is_operator(user) or merchant_id_of(user) is not None


def merchant_filter(model, merchant_id: int) -> Q | None:
    """The Q that keeps `model` rows belonging to `merchant_id`; None means all rows."""
    scope = getattr(model, "merchant_scope", None)
    if scope is None:
        raise ImproperlyConfigured(
            f"{model.__name__} must declare merchant_scope to be shown to merchants."
        )
    if scope == PUBLIC:
        return None
    condition = Q(pk__in=[])
    for path in scope:
        condition |= Q(**{path: merchant_id})
    return condition


def scope_to_merchant(queryset: QuerySet, user) -> QuerySet:
    """Narrow `queryset` to what `user` may see. Used by every admin page and API view."""
    if is_operator(user):
        return queryset
    merchant_id = merchant_id_of(user)
    if merchant_id is None:
        return queryset.none()
    condition = merchant_filter(queryset.model, merchant_id)
    return queryset if condition is None else queryset.filter(condition)


def visible_to(queryset: QuerySet, user) -> QuerySet:
    """The rows `user` may name in a request: their scope, plus what is published to all.

    A model may declare `merchant_published`, a Q of the rows every merchant
    sees anyway (the market's listed products and plans on sale, the register
    of active merchants). Naming another merchant's row outside both is
    answered exactly like naming an id that does not exist.
    """
    published = getattr(queryset.model, "merchant_published", None)
    merchant_id = merchant_id_of(user)
    if published is None or is_operator(user) or merchant_id is None:
        return scope_to_merchant(queryset, user)
    return visible_to_merchant(queryset, merchant_id)


def visible_to_merchant(queryset: QuerySet, merchant_id: int) -> QuerySet:
    """`visible_to` for a merchant's person, of a model that declares `merchant_published`."""
    condition = merchant_filter(queryset.model, merchant_id)
    if condition is None:
        return queryset
    return queryset.filter(condition | queryset.model.merchant_published)


def is_public(model) -> bool:
    return getattr(model, "merchant_scope", None) == PUBLIC
