"""What a check reports: one Problem per thing wrong, before it becomes a finding."""

from dataclasses import dataclass, field

from django.db.models import Model


def ref(model: type[Model] | Model, pk: int) -> dict:
    """A reference to one object concerned, as stored in a finding."""
    return {"model": model._meta.label_lower, "id": int(pk)}


@dataclass
class Problem:
    """One problem a check found.

    `fingerprint` names the problem stably (kind plus the ids concerned), so
    the same problem seen by the next sweep updates the same finding.
    `objects` lists the objects concerned, the first being the main one.
    """

    kind: str
    fingerprint: str
    summary: str
    objects: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    severity: str | None = None
