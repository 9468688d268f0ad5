"""Oversight's reads. Everything here is for operators (merchant_scope = ())."""

from django.db.models import QuerySet

from core.scoping import scope_to_merchant
from oversight.models import AuditFinding, AuditRun


def finding_list(*, user) -> QuerySet[AuditFinding]:
    return scope_to_merchant(AuditFinding.objects.all(), user)


def audit_run_list(*, user) -> QuerySet[AuditRun]:
    return scope_to_merchant(AuditRun.objects.all(), user)
