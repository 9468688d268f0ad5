"""Writes for grants: a department's authorization for a merchant to sell its data.

Suspending, revoking or expiring a grant suspends the listed products built on it;
reinstating it brings back those it suspended that still pass every listing rule.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import MerchantStatus
from accounts.models import Merchant, User
from core.exceptions import BusinessRuleViolation, Conflict, InvalidTransition
from core.money import BPS_WHOLE, MAX_FEN
from core.transitions import lock_in_pk_order, lock_one, transition
from products.choices import ProductStatus, SuspensionCause
from products.models import Industry, Product
from publicdata import selectors
from publicdata.choices import (
    GRANT_TRANSITIONS,
    GrantStatus,
)
from publicdata.models import (
    CatalogEntry,
    Department,
    Grant,
)
from publicdata.rules import product_listing_problems
from publicdata.services._common import _actor

logger = logging.getLogger(__name__)

EXCLUSION_CONSTRAINT = "grant_one_in_force_per_industry_department"
# PostgreSQL's SQLSTATE for exclusion_violation.
EXCLUSION_VIOLATION = "23P01"


def _grant_conflict(existing: Grant) -> Conflict:
    return Conflict(
        _(
            "一行业一部门一授权: grant %(id)s already holds %(industry)s at %(department)s "
            "from %(start)s until %(end)s (grantee: %(grantee)s, status: %(status)s)."
        )
        % {
            "id": existing.pk,
            "industry": existing.industry,
            "department": existing.department,
            "start": f"{timezone.localtime(existing.valid_from):%Y-%m-%d %H:%M}",
            "end": f"{timezone.localtime(existing.valid_until):%Y-%m-%d %H:%M}",
            "grantee": existing.grantee,
            "status": existing.get_status_display(),
        },
        code="grant_in_force",
        extra={
            "conflicting_grant": {
                "id": existing.pk,
                "grantee": existing.grantee_id,
                "grantee_name": str(existing.grantee),
                "status": existing.status,
                "valid_from": existing.valid_from.isoformat(),
                "valid_until": existing.valid_until.isoformat(),
            }
        },
    )


def _check_grant_terms(
    *, valid_from: dt.datetime, valid_until: dt.datetime, revenue_share_bps: int, fee_ceiling_fen
) -> None:
    if timezone.is_naive(valid_from) or timezone.is_naive(valid_until):
        raise BusinessRuleViolation(_("Give the window with a time zone."), field="valid_from")
    if valid_until <= valid_from:
        raise BusinessRuleViolation(_("The window must end after it starts."), field="valid_until")
    if not 0 <= revenue_share_bps <= BPS_WHOLE:
        raise BusinessRuleViolation(
            _("The department's share is between 0 and 10000 basis points."),
            field="revenue_share_bps",
        )
    if not 0 <= fee_ceiling_fen <= MAX_FEN:
        raise BusinessRuleViolation(
            _("The fee ceiling must be between 0 and %(max)s fen.") % {"max": MAX_FEN},
            field="fee_ceiling_fen",
        )


def _check_entries(department: Department, entries: Iterable[CatalogEntry] | None):
    if entries is None:
        return list(department.entries.all())
    entries = list(entries)
    foreign = [e.code for e in entries if e.department_id != department.pk]
    if foreign:
        raise BusinessRuleViolation(
            _("Catalog entries %(codes)s belong to another department.")
            % {"codes": ", ".join(foreign)},
            field="entries",
        )
    return entries


def _save_grant_exclusively(grant: Grant, *, update_fields=None) -> None:
    """Save `grant`, turning a lost race on the exclusion constraint into the 409.

    The department lock makes the race unlikely; the savepoint keeps the outer
    transaction usable so the grant that won can be named.
    """
    try:
        with transaction.atomic():
            grant.save(update_fields=update_fields)
    except IntegrityError as exc:
        cause = exc.__cause__
        if getattr(cause, "sqlstate", None) != EXCLUSION_VIOLATION and (
            EXCLUSION_CONSTRAINT not in str(exc)
        ):
            raise
        existing = selectors.grant_in_force_overlapping(
            industry=grant.industry,
            department=grant.department,
            valid_from=grant.valid_from,
            valid_until=grant.valid_until,
            exclude_pk=grant.pk,
        )
        if existing is None:
            raise Conflict(
                _("Another grant for this industry and department is in force in this window."),
                code="grant_in_force",
            ) from exc
        raise _grant_conflict(existing) from exc


@transaction.atomic
def grant_create(
    *,
    actor: User | None,
    department: Department,
    industry: Industry,
    grantee: Merchant,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
    revenue_share_bps: int,
    fee_ceiling_fen: int,
    entries: Iterable[CatalogEntry] | None = None,
    reason: str = "",
) -> Grant:
    """Record a pending grant (公共数据授权运营): one department, one industry, one operator.

    Invariant (一行业一部门一授权): no other grant in force for the same industry and
    department overlaps the window. Checked here under a lock on the department
    row, so concurrent requests queue and the loser is told which grant won; on
    PostgreSQL the exclusion constraint holds it even against writers that skip
    this service. The grant covers the named catalog entries of its department,
    or all of them when none are named.
    """
    _check_grant_terms(
        valid_from=valid_from,
        valid_until=valid_until,
        revenue_share_bps=revenue_share_bps,
        fee_ceiling_fen=fee_ceiling_fen,
    )
    if grantee.status != MerchantStatus.ACTIVE:
        raise BusinessRuleViolation(
            _("The grantee must be an active merchant (it is %(status)s).")
            % {"status": grantee.status},
            field="grantee",
        )
    if not industry.is_active:
        raise BusinessRuleViolation(_("This industry is closed."), field="industry")
    # Serialises grant requests per department: the second waits, then sees the first.
    department = lock_one(Department, department.pk)
    covered = _check_entries(department, entries)
    existing = selectors.grant_in_force_overlapping(
        industry=industry, department=department, valid_from=valid_from, valid_until=valid_until
    )
    if existing is not None:
        raise _grant_conflict(existing)
    grant = Grant(
        department=department,
        industry=industry,
        grantee=grantee,
        valid_from=valid_from,
        valid_until=valid_until,
        revenue_share_bps=revenue_share_bps,
        fee_ceiling_fen=fee_ceiling_fen,
        status=GrantStatus.PENDING,
    )
    _save_grant_exclusively(grant)
    grant.entries.set(covered)
    grant.events.create(
        actor=_actor(actor), from_status="", to_status=GrantStatus.PENDING, reason=reason
    )
    return grant


GRANT_EDITABLE_FIELDS = ("valid_from", "valid_until", "revenue_share_bps", "fee_ceiling_fen")


@transaction.atomic
def grant_update(
    *,
    actor: User | None,
    grant: Grant,
    entries: Iterable[CatalogEntry] | None = None,
    **changes,
) -> Grant:
    """Change a pending grant's terms. Once active, terms are fixed: revoke and grant anew.

    Same invariant as grant_create for a changed window.
    """
    unknown = set(changes) - set(GRANT_EDITABLE_FIELDS)
    if unknown:
        raise BusinessRuleViolation(
            _("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    department = lock_one(Department, grant.department_id)
    grant = lock_one(Grant, grant.pk)
    if grant.status != GrantStatus.PENDING:
        raise Conflict(
            _("Only a pending grant's terms may change (this one is %(status)s).")
            % {"status": grant.status},
            code="grant_not_pending",
        )
    terms = {f: changes.get(f, getattr(grant, f)) for f in GRANT_EDITABLE_FIELDS}
    _check_grant_terms(**terms)
    if "valid_from" in changes or "valid_until" in changes:
        existing = selectors.grant_in_force_overlapping(
            industry=grant.industry,
            department=department,
            valid_from=terms["valid_from"],
            valid_until=terms["valid_until"],
            exclude_pk=grant.pk,
        )
        if existing is not None:
            raise _grant_conflict(existing)
    for field, value in changes.items():
        setattr(grant, field, value)
    if changes:
        _save_grant_exclusively(grant, update_fields=[*changes, "updated_at"])
    if entries is not None:
        grant.entries.set(_check_entries(department, entries))
    return grant


def _grant_products(grant: Grant, status: str) -> list[int]:
    return list(
        Product.objects.filter(grant=grant, status=status)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _suspend_products(*, actor: User | None, product_ids: Iterable[int], reason: str) -> int:
    from products.services import product_suspend

    products = lock_in_pk_order(Product, product_ids)
    changed = 0
    for product in products:
        if product.status == ProductStatus.LISTED:
            product_suspend(
                actor=actor, product=product, reason=reason, cause=SuspensionCause.GRANT
            )
            changed += 1
    return changed


def _grant_move(*, actor: User | None, grant: Grant, to: str, reason: str, only_from=None) -> Grant:
    grant = lock_one(Grant, grant.pk)
    if only_from is not None and grant.status != to and grant.status not in only_from:
        raise InvalidTransition(
            model_label=str(Grant._meta.verbose_name), current=grant.status, target=to
        )
    changed = transition(
        grant, to=to, actor=_actor(actor), reason=reason, transitions=GRANT_TRANSITIONS
    )
    if changed and to in (GrantStatus.SUSPENDED, GrantStatus.REVOKED, GrantStatus.EXPIRED):
        _suspend_products(
            actor=_actor(actor),
            product_ids=_grant_products(grant, ProductStatus.LISTED),
            reason=_("Grant %(id)s %(status)s: %(reason)s")
            % {"id": grant.pk, "status": to, "reason": reason},
        )
    return grant


@transaction.atomic
def grant_activate(*, actor: User | None, grant: Grant, reason: str = "") -> Grant:
    """pending -> active, while the window has not ended and the grantee is active."""
    locked = lock_one(Grant, grant.pk)
    if locked.status == GrantStatus.PENDING:
        if locked.valid_until <= timezone.now():
            raise BusinessRuleViolation(
                _("The grant's window has ended; it can no longer be activated."),
                field="valid_until",
            )
        if locked.grantee.status != MerchantStatus.ACTIVE:
            raise BusinessRuleViolation(
                _("The grantee is not an active merchant."), field="grantee"
            )
    return _grant_move(
        actor=actor,
        grant=locked,
        to=GrantStatus.ACTIVE,
        reason=reason,
        only_from=(GrantStatus.PENDING,),
    )


@transaction.atomic
def grant_suspend(*, actor: User | None, grant: Grant, reason: str) -> Grant:
    """active -> suspended; its listed products are suspended at once (cause: grant)."""
    return _grant_move(actor=actor, grant=grant, to=GrantStatus.SUSPENDED, reason=reason)


@transaction.atomic
def grant_reinstate(*, actor: User | None, grant: Grant, reason: str) -> Grant:
    """suspended -> active inside its window; products it suspended return if still sound.

    A product comes back only when it was suspended because of a grant and passes
    every listing rule again (its scenarios may have expired meanwhile).
    """
    from products.services import product_reinstate

    locked = lock_one(Grant, grant.pk)
    if locked.status == GrantStatus.SUSPENDED and not locked.covers(timezone.now()):
        raise BusinessRuleViolation(
            _("The grant's window has ended; it cannot be reinstated."), field="valid_until"
        )
    was = locked.status
    grant = _grant_move(
        actor=actor,
        grant=locked,
        to=GrantStatus.ACTIVE,
        reason=reason,
        only_from=(GrantStatus.SUSPENDED,),
    )
    if was == GrantStatus.ACTIVE:
        return grant
    for product in lock_in_pk_order(Product, _grant_products(grant, ProductStatus.SUSPENDED)):
        if product.suspension_cause == SuspensionCause.GRANT and not product_listing_problems(
            product
        ):
            product_reinstate(
                actor=_actor(actor),
                product=product,
                reason=_("Grant %(id)s reinstated: %(reason)s")
                % {"id": grant.pk, "reason": reason},
                cause=SuspensionCause.GRANT,
            )
    return grant


@transaction.atomic
def grant_revoke(*, actor: User | None, grant: Grant, reason: str) -> Grant:
    """pending, active or suspended -> revoked (final, with a reason); products suspended."""
    if not (reason or "").strip():
        raise BusinessRuleViolation(_("Say why the grant is revoked."), field="reason")
    return _grant_move(actor=actor, grant=grant, to=GrantStatus.REVOKED, reason=reason)
