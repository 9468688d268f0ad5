"""The exchange's admin site: Django's, with a landing page for each role.

A merchant's people land on their desk (what waits on them, their balances,
the next payout) above the usual list of models; operators see their queues
(the operator desk) above it. Pages that belong to no single model (the
market) are added here, so they sit under /admin/ behind the same sign-in and
permission checks.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from core.scoping import is_operator, merchant_id_of


class ExchangeAdminSite(admin.AdminSite):
    def index(self, request, extra_context=None):
        response = super().index(request, extra_context)
        if merchant_id_of(request.user) is not None and not is_operator(request.user):
            from marketplace.desk import merchant_desk

            # The response renders lazily: the desk joins its context before it does.
            context = response.context_data if response.context_data is not None else {}
            context["desk"] = merchant_desk(user=request.user)
            response.context_data = context
            response.template_name = "admin/marketplace/merchant_index.html"
        elif is_operator(request.user):
            from oversight.home import operator_queues

            # Operators land on their queues, above the list of models.
            context = response.context_data if response.context_data is not None else {}
            context["queues"] = operator_queues()
            response.context_data = context
            response.template_name = "admin/operator_index.html"
        return response

    def get_urls(self):
        from marketplace import admin_market

        return [*admin_market.urls(self), *super().get_urls()]


class ExchangeAdminConfig(AdminConfig):
    default_site = "config.admin_site.ExchangeAdminSite"
