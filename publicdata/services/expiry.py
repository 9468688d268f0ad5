"""The hourly expiry of grants and scenario authorizations whose window has ended."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.transitions import lock_one, transition
from products.choices import ProductStatus
from publicdata import selectors
from publicdata.choices import (
    GRANT_IN_FORCE,
    SCENARIO_TRANSITIONS,
    GrantStatus,
    ScenarioStatus,
)
from publicdata.models import (
    Grant,
    Scenario,
)
from publicdata.services.grants import _grant_move, _grant_products, _suspend_products


@dataclass
class ExpirySummary:
    grants_expired: int = 0
    scenarios_expired: int = 0
    products_suspended: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "grants_expired": self.grants_expired,
            "scenarios_expired": self.scenarios_expired,
            "products_suspended": self.products_suspended,
        }


def grants_expire(*, at: dt.datetime | None = None) -> ExpirySummary:
    """Expire grants and scenario authorizations whose window has ended; suspend their products.

    Idempotent by the data: each row is moved by a conditional transition under
    its lock (an expired row is left alone), each in its own transaction so a
    crash keeps what was done; a last pass suspends any listed public-data
    product whose grant or scenarios are no longer in force, so a product missed
    by an interrupted run is caught by the next.
    """
    at = at or timezone.now()
    summary = ExpirySummary()
    grant_ids = selectors.grants_due_to_expire(at=at)
    for grant_id in grant_ids:
        with transaction.atomic():
            grant = lock_one(Grant, grant_id)
            if grant.status not in GRANT_IN_FORCE or grant.valid_until > at:
                continue
            listed = _grant_products(grant, ProductStatus.LISTED)
            _grant_move(
                actor=None,
                grant=grant,
                to=GrantStatus.EXPIRED,
                reason=_("The grant's window ended at %(end)s.")
                % {"end": timezone.localtime(grant.valid_until).isoformat()},
            )
            summary.grants_expired += 1
            summary.products_suspended += len(listed)
    for scenario_id in selectors.scenarios_due_to_expire(at=at):
        with transaction.atomic():
            scenario = lock_one(Scenario, scenario_id)
            if scenario.status not in (ScenarioStatus.ASSESSED, ScenarioStatus.AUTHORIZED):
                continue
            changed = transition(
                scenario,
                to=ScenarioStatus.EXPIRED,
                actor=None,
                reason=_("The scenario's authorization window ended."),
                transitions=SCENARIO_TRANSITIONS,
            )
            if changed:
                summary.scenarios_expired += 1
                ids = scenario.products.filter(status=ProductStatus.LISTED).values_list(
                    "pk", flat=True
                )
                summary.products_suspended += _suspend_products(
                    actor=None,
                    product_ids=ids,
                    reason=_("Scenario %(id)s (%(name)s) is no longer authorized.")
                    % {"id": scenario.pk, "name": scenario.name},
                )
    summary.products_suspended += _suspend_products_out_of_force(at=at)
    return summary


def _suspend_products_out_of_force(*, at: dt.datetime) -> int:
    ids = selectors.listed_public_products_out_of_force(at=at)
    done = 0
    for product_id in ids:
        with transaction.atomic():
            done += _suspend_products(
                actor=None,
                product_ids=[product_id],
                reason=_("Its grant or a scenario it serves is no longer in force."),
            )
    return done
