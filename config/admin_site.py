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
        landing: dict[str, object]
        # Each role's landing page joins the index's context as extra context
        # and renders with its own template, which extends Django's index.
        if is_operator(request.user):
            from oversight.home import operator_queues

            template = "admin/operator_index.html"
            landing = {"queues": operator_queues()}
        elif merchant_id_of(request.user) is not None:
            from marketplace.desk import merchant_desk

            template = "admin/marketplace/merchant_index.html"
            landing = {"desk": merchant_desk(user=request.user)}
        else:
            return super().index(request, extra_context)
        response = super().index(request, {**(extra_context or {}), **landing})
        response.template_name = template
        return response

    def get_urls(self):
        from marketplace import admin_market

        return [*admin_market.urls(self), *super().get_urls()]


class ExchangeAdminConfig(AdminConfig):
    default_site = "config.admin_site.ExchangeAdminSite"
