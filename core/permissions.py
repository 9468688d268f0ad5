from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.scoping import has_exchange_role, is_operator, is_public, role_may_write


class HasExchangeRole(BasePermission):
    """Signed in as an operator or as one of a merchant's people, in a role that may do this.

    Reference data (models whose scope is PUBLIC) is read-only for merchants;
    models only the owner writes (core.scoping: profile, bank account,
    people) are read-only for staff.
    """

    message = _("Sign in as an exchange operator or a merchant's person.")
    owner_message = _("Only the merchant's owner may do this; staff work on products and orders.")

    def has_permission(self, request, view) -> bool:
        if not has_exchange_role(request.user):
            return False
        queryset = getattr(view, "queryset", None)
        if queryset is None or request.method in SAFE_METHODS:
            return True
        model = queryset.model
        if is_public(model) and not is_operator(request.user):
            return False
        if not role_may_write(request.user, model):
            self.message = self.owner_message
            return False
        return True


class IsOperator(BasePermission):
    """Exchange operators only: reviews, approvals and other operator actions."""

    message = _("Only exchange operators may do this.")

    def has_permission(self, request, view) -> bool:
        return is_operator(request.user)
