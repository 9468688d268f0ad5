"""The one mechanism that decides which rows a person may see.

Every model that people reach through the admin or the API declares
`merchant_scope`: a tuple of lookup paths from the model to the merchant(s)
that own a row. Operators see every row; a merchant's people see the rows
where any of those paths leads to their merchant; anybody else sees nothing.

Two special values: `PUBLIC` (reference data every signed-in role may read)
and `()` (operator-only records such as audit findings).
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

PUBLIC = "__public__"


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


def is_public(model) -> bool:
    return getattr(model, "merchant_scope", None) == PUBLIC
