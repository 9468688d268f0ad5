"""The operators' landing page (运营工作台): each queue waiting on them, counted, with its link."""

import datetime as dt

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import ApplicationStatus
from accounts.models import MerchantApplication
from core.scoping import is_operator
from marketplace.models import Order
from oversight.choices import FINDING_UNRESOLVED
from oversight.models import AuditFinding
from products.choices import ProductStatus, RevisionStatus
from products.models import Product, ProductRevision
from settlements.models import ClearingBatch

WAITING = (ProductStatus.SUBMITTED, ProductStatus.IN_REVIEW)


def operator_queues() -> list[dict]:
    """(title, count, link) of every queue an operator works through."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    batch = ClearingBatch.objects.filter(business_date=yesterday).first()

    def link(model, query=""):
        opts = model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + query

    return [
        {
            "title": _("Merchants to review (入驻)"),
            "count": MerchantApplication.objects.filter(status=ApplicationStatus.SUBMITTED).count(),
            "url": link(MerchantApplication, f"?status__exact={ApplicationStatus.SUBMITTED}"),
        },
        {
            "title": _("Products to review"),
            "count": Product.objects.filter(status__in=WAITING).count(),
            "url": link(Product, "?status__in=" + ",".join(WAITING)),
        },
        {
            "title": _("Product revisions to review"),
            "count": ProductRevision.objects.filter(
                status__in=(RevisionStatus.SUBMITTED, RevisionStatus.IN_REVIEW)
            ).count(),
            "url": link(ProductRevision),
        },
        {
            "title": _("Disputes to resolve"),
            "count": Order.objects.filter(is_disputed=True).count(),
            "url": link(Order, "?is_disputed__exact=1"),
        },
        {
            "title": _("Audit findings open"),
            "count": AuditFinding.objects.filter(status__in=FINDING_UNRESOLVED).count(),
            "url": link(AuditFinding),
        },
        {
            "title": _("Clearing of yesterday"),
            "count": batch.get_status_display() if batch else _("not run yet"),
            "url": link(ClearingBatch),
        },
    ]


def operator_home(request):
    if not is_operator(request.user):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("Operator desk"),
        "queues": operator_queues(),
    }
    return TemplateResponse(request, "admin/operator_home.html", context)
