from django.db import models
from django.utils.translation import gettext_lazy as _


class DepartmentLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City or prefecture")


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


# Beyond pending -> active -> suspended <-> active -> revoked/expired, a pending
# grant may be withdrawn (revoked) before it starts, and one whose window ends
# before activation expires, so it stops occupying its industry and department.
GRANT_TRANSITIONS: dict[str, set[str]] = {
    GrantStatus.PENDING: {GrantStatus.ACTIVE, GrantStatus.REVOKED, GrantStatus.EXPIRED},
    GrantStatus.ACTIVE: {GrantStatus.SUSPENDED, GrantStatus.REVOKED, GrantStatus.EXPIRED},
    GrantStatus.SUSPENDED: {GrantStatus.ACTIVE, GrantStatus.REVOKED, GrantStatus.EXPIRED},
    GrantStatus.REVOKED: set(),
    GrantStatus.EXPIRED: set(),
}

# Statuses in which a grant occupies its (industry, department) window.
GRANT_IN_FORCE = (GrantStatus.PENDING, GrantStatus.ACTIVE, GrantStatus.SUSPENDED)


class ScenarioPurpose(models.TextChoices):
    INDUSTRY = "industry", _("Industry development")
    PUBLIC_INTEREST = "public_interest", _("Public interest (free of charge)")


class ScenarioStatus(models.TextChoices):
    """Where a scenario stands on 一场景一评估一授权.

    (One scenario, one assessment, one authorization.)
    """

    PROPOSED = "proposed", _("Proposed, awaiting assessment")
    ASSESSED = "assessed", _("Assessment passed, awaiting authorization")
    FAILED = "failed", _("Assessment failed (final)")
    AUTHORIZED = "authorized", _("Authorized")
    EXPIRED = "expired", _("Authorization expired")


# A failed assessment ends the scenario: trying again means a new scenario.
SCENARIO_TRANSITIONS: dict[str, set[str]] = {
    ScenarioStatus.PROPOSED: {ScenarioStatus.ASSESSED, ScenarioStatus.FAILED},
    ScenarioStatus.ASSESSED: {ScenarioStatus.AUTHORIZED, ScenarioStatus.EXPIRED},
    ScenarioStatus.FAILED: set(),
    ScenarioStatus.AUTHORIZED: {ScenarioStatus.EXPIRED},
    ScenarioStatus.EXPIRED: set(),
}


class AssessmentVerdict(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
