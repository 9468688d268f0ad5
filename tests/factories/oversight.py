"""Builders for oversight's records (all operator-only: merchant_scope = ())."""

from typing import Any

import factory
from django.utils import timezone

from oversight.models import AuditFinding, AuditFindingEvent, AuditRun, ChainSeal, StatsSnapshot
from oversight.services.chain import GENESIS_DIGEST, seal_digest
from tests.factories.world import builds


class AuditRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditRun

    status = "finished"
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)


class AuditFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditFinding

    kind = "stuck_order"
    severity = "medium"
    fingerprint = factory.Sequence(lambda n: f"stuck_order:order:{n}:paid")
    summary = factory.Sequence(lambda n: f"order {n} has been paid for 20 days")
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)
    first_run = factory.SubFactory(AuditRunFactory)
    last_run = factory.SelfAttribute("first_run")


def a_seal(**overrides) -> ChainSeal:
    """A seal that links to the chain's current head (its rows need not exist)."""
    head = ChainSeal.objects.order_by("-sequence").first()
    fields: dict[str, Any] = {
        "sequence": head.sequence + 1 if head else 1,
        "table": "marketplace.orderevent",
        "first_id": 10**12 + (head.sequence if head else 0) * 10,
        "row_count": 0,
        "merkle_root": "a" * 64,
    }
    fields["last_id"] = fields["first_id"] + 9
    fields.update(overrides)
    previous = head.digest if head else GENESIS_DIGEST
    return ChainSeal.objects.create(
        **fields,
        previous_digest=previous,
        digest=seal_digest(previous_digest=previous, **fields),
        sealed_at=timezone.now(),
    )


@builds(AuditRun)
def _audit_run(owner, counterparty):
    return AuditRunFactory()


@builds(AuditFinding)
def _audit_finding(owner, counterparty):
    # A finding about the owner: even then the owner may not see it.
    return AuditFindingFactory(objects_concerned=[{"model": "accounts.merchant", "id": owner.pk}])


@builds(AuditFindingEvent)
def _audit_finding_event(owner, counterparty):
    return AuditFindingEvent.objects.create(
        subject=AuditFindingFactory(), from_status="", to_status="open"
    )


@builds(ChainSeal)
def _chain_seal(owner, counterparty):
    return a_seal()


@builds(StatsSnapshot)
def _stats_snapshot(owner, counterparty):
    return StatsSnapshot.objects.create(computed_at=timezone.now(), document={})
