from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.scoping import has_exchange_role, is_operator, is_public


class HasExchangeRole(BasePermission):
    """Signed in as an operator or as one of a merchant's people.

    Reference data (models whose scope is PUBLIC) is read-only for merchants.
    """

    message = "Sign in as an exchange operator or a merchant's person."

    def has_permission(self, request, view) -> bool:
        if not has_exchange_role(request.user):
            return False
        queryset = getattr(view, "queryset", None)
        writes_reference_data = (
            queryset is not None
            and is_public(queryset.model)
            and request.method not in SAFE_METHODS
        )
        return is_operator(request.user) or not writes_reference_data


class IsOperator(BasePermission):
    """Exchange operators only: reviews, approvals and other operator actions."""

    message = "Only exchange operators may do this."

    def has_permission(self, request, view) -> bool:
        return is_operator(request.user)
