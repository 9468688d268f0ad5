"""Reads that may go to a PostgreSQL streaming replica (docs/scaling.md, "Read replicas").

Off unless REPLICA_DATABASE_URL is set: then settings add the `replica`
database, this router and ReplicaReadsMiddleware. A read goes to the replica
only when all of these hold:

- it happens while a safe request (GET, HEAD, OPTIONS) is being answered, so
  background jobs (clearing, audit, payouts) always read the primary;
- its model belongs to an app of REPLICA_READ_APPS (the market, the catalogs,
  statements), whose readers tolerate a second of replication lag;
- the request has not written anything yet (read your writes: after its
  first write, every later read of the request goes to the primary);
- no transaction is open on the primary (a read inside one may be a
  `select_for_update`, and must see the transaction's own rows).
"""

from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PRIMARY = "default"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# True while a safe request that has not written is being answered.
_replica_allowed: ContextVar[bool] = ContextVar("replica_allowed", default=False)


def replica_configured() -> bool:
    return bool(settings.REPLICA_DATABASE_URL)


class ReplicaRouter:
    """Sends the reads described above to `replica`; everything else to the primary."""

    def db_for_read(self, model, **hints):
        if not (_replica_allowed.get() and replica_configured()):
            return PRIMARY
        if model._meta.app_label not in settings.REPLICA_READ_APPS:
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        # From the first write on, this request reads its own writes from the primary.
        _replica_allowed.set(False)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: rows read from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Marks a safe request's reads as allowed on the replica, for as long as it answers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _replica_allowed.set(request.method in SAFE_METHODS)
        try:
            return self.get_response(request)
        finally:
            _replica_allowed.reset(token)
