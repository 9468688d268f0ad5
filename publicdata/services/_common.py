"""What the publicdata services share: who is recorded as acting."""

from accounts.models import User


def _actor(actor: User | None) -> User | None:
    """The person to record as acting, or None for the system (a task, the seeder)."""
    return actor if getattr(actor, "pk", None) else None
