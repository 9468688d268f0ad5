"""Writes for scenarios: one scenario, one assessment, one authorization (一场景一评估一授权)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import BusinessRuleViolation, Conflict
from core.transitions import lock_one, transition
from publicdata.choices import (
    GRANT_IN_FORCE,
    SCENARIO_TRANSITIONS,
    AssessmentVerdict,
    GrantStatus,
    ScenarioPurpose,
    ScenarioStatus,
)
from publicdata.models import (
    Grant,
    Scenario,
    ScenarioAssessment,
    ScenarioAuthorization,
)
from publicdata.services._common import _actor


@transaction.atomic
def scenario_create(
    *, actor: User | None, grant: Grant, name: str, purpose: str, description: str = ""
) -> Scenario:
    """Propose an application scenario (应用场景) under a grant in force; it awaits assessment."""
    grant = lock_one(Grant, grant.pk)
    if grant.status not in (GrantStatus.PENDING, GrantStatus.ACTIVE):
        raise BusinessRuleViolation(
            _("Scenarios are proposed under a pending or active grant (this one is %(s)s).")
            % {"s": grant.status},
            field="grant",
        )
    if purpose not in ScenarioPurpose.values:
        raise BusinessRuleViolation(_("Unknown purpose."), field="purpose")
    scenario = Scenario(grant=grant, name=name, description=description, purpose=purpose)
    scenario.full_clean()
    scenario.save()
    scenario.events.create(
        actor=_actor(actor), from_status="", to_status=ScenarioStatus.PROPOSED, reason="proposed"
    )
    return scenario


@transaction.atomic
def scenario_assess(
    *,
    actor: User | None,
    scenario: Scenario,
    assessor: str,
    assessed_on: dt.date,
    risk_findings: str,
    verdict: str,
) -> Scenario:
    """Record the scenario's one assessment (一场景一评估): pass -> assessed, fail -> failed.

    Invariant: exactly one assessment per scenario, never replaced; a failed
    scenario is over and a new attempt is a new scenario.
    """
    scenario = lock_one(Scenario, scenario.pk)
    if ScenarioAssessment.objects.filter(scenario=scenario).exists():
        raise Conflict(
            _(
                "Scenario %(id)s has been assessed already; each scenario is assessed once. "
                "To try again, propose a new scenario."
            )
            % {"id": scenario.pk},
            code="already_assessed",
        )
    if verdict not in AssessmentVerdict.values:
        raise BusinessRuleViolation(_("The verdict is pass or fail."), field="verdict")
    if assessed_on > timezone.localdate():
        raise BusinessRuleViolation(
            _("An assessment cannot be dated in the future."), field="assessed_on"
        )
    if not (assessor or "").strip():
        raise BusinessRuleViolation(_("Name the assessor."), field="assessor")
    if not (risk_findings or "").strip():
        raise BusinessRuleViolation(_("Record the risk findings."), field="risk_findings")
    target = ScenarioStatus.ASSESSED if verdict == AssessmentVerdict.PASS else ScenarioStatus.FAILED
    transition(
        scenario,
        to=target,
        actor=_actor(actor),
        reason=_("Assessed by %(assessor)s: %(verdict)s")
        % {"assessor": assessor, "verdict": verdict},
        transitions=SCENARIO_TRANSITIONS,
    )
    ScenarioAssessment.objects.create(
        scenario=scenario,
        assessor=assessor,
        assessed_on=assessed_on,
        risk_findings=risk_findings,
        verdict=verdict,
        recorded_by=_actor(actor),
    )
    return scenario


@transaction.atomic
def scenario_authorize(
    *,
    actor: User | None,
    scenario: Scenario,
    document_number: str,
    valid_from: dt.datetime,
    valid_until: dt.datetime,
) -> Scenario:
    """Issue the scenario's one authorization (一授权) after a passing assessment.

    Invariant: at most one authorization, only for an assessed (passed) scenario,
    with a non-empty window inside the grant's, under a grant not revoked or expired.
    """
    scenario = lock_one(Scenario, scenario.pk)
    grant = scenario.grant
    if ScenarioAuthorization.objects.filter(scenario=scenario).exists():
        raise Conflict(
            _("Scenario %(id)s is authorized already; each scenario is authorized once.")
            % {"id": scenario.pk},
            code="already_authorized",
        )
    if scenario.status != ScenarioStatus.ASSESSED:
        raise Conflict(
            _("Only a scenario that passed its assessment may be authorized (this one is %(s)s).")
            % {"s": scenario.status},
            code="not_assessed",
        )
    if grant.status not in GRANT_IN_FORCE:
        raise BusinessRuleViolation(
            _("The grant is %(s)s; it authorizes nothing more.") % {"s": grant.status},
            field="grant",
        )
    if timezone.is_naive(valid_from) or timezone.is_naive(valid_until):
        raise BusinessRuleViolation(_("Give the window with a time zone."), field="valid_from")
    if valid_until <= valid_from:
        raise BusinessRuleViolation(_("The window must end after it starts."), field="valid_until")
    if valid_from < grant.valid_from or valid_until > grant.valid_until:
        raise BusinessRuleViolation(
            _("The authorization window must lie inside the grant's (%(start)s to %(end)s).")
            % {
                "start": timezone.localtime(grant.valid_from).isoformat(),
                "end": timezone.localtime(grant.valid_until).isoformat(),
            },
            field="valid_until" if valid_until > grant.valid_until else "valid_from",
        )
    if valid_until <= timezone.now():
        raise BusinessRuleViolation(_("The window has ended already."), field="valid_until")
    if not (document_number or "").strip():
        raise BusinessRuleViolation(
            _("Give the authorization document number."), field="document_number"
        )
    transition(
        scenario,
        to=ScenarioStatus.AUTHORIZED,
        actor=_actor(actor),
        reason=_("Authorization %(doc)s") % {"doc": document_number},
        transitions=SCENARIO_TRANSITIONS,
    )
    ScenarioAuthorization.objects.create(
        scenario=scenario,
        document_number=document_number,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=_actor(actor),
    )
    return scenario


# Expiry (the hourly beat task) ----------------------------------------------------
