"""The one place where a status changes.

A transition service locks its row(s) with `lock_in_pk_order`, then calls
`transition`, which checks the move against the model's table, saves only the
changed fields and appends an event row.
"""

from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

from core.exceptions import InvalidTransition

M = TypeVar("M", bound=models.Model)


# Status changes never touch a primary key, so FOR NO KEY UPDATE is enough: it
# still serialises writers of the row, but lets other transactions insert rows
# that reference it (events, postings) without queueing behind the lock.


def lock_in_pk_order(model: type[M], pks: Iterable[int]) -> list[M]:
    """Lock rows in primary-key order, so two services never deadlock."""
    return list(
        model._default_manager.select_for_update(no_key=True)
        .filter(pk__in=list(pks))
        .order_by("pk")
    )


def lock_one(model: type[M], pk: int) -> M:
    return model._default_manager.select_for_update(no_key=True).get(pk=pk)


def transition_check(
    model: type[models.Model],
    *,
    current: str,
    to: str,
    transitions: Mapping[str, Collection[str]],
) -> None:
    """Raise InvalidTransition unless `transitions` allows current -> to.

    `transition` calls it for one row; set-based moves (one UPDATE for many
    rows, such as clearing a day's orders) call it before their statement, so
    they obey the same table as the row-at-a-time services.
    """
    if to not in transitions.get(current, ()):
        raise InvalidTransition(
            model_label=str(model._meta.verbose_name), current=current, target=to
        )


def transition(
    instance: models.Model,
    *,
    to: str,
    actor: Any,
    transitions: Mapping[str, Collection[str]],
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
    status_field: str = "status",
) -> bool:
    """Move a locked `instance` to status `to` and record the event.

    Returns False (and changes nothing) when the instance already has that
    status: asking twice for the same state is not an error.
    """
    current = getattr(instance, status_field)
    if current == to:
        return False
    transition_check(type(instance), current=current, to=to, transitions=transitions)
    setattr(instance, status_field, to)
    update_fields = [status_field]
    for field, value in (changes or {}).items():
        setattr(instance, field, value)
        update_fields.append(field)
    if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    instance.events.create(  # type: ignore[attr-defined]
        actor=actor if getattr(actor, "pk", None) else None,
        from_status=current,
        to_status=to,
        reason=reason,
    )
    return True
