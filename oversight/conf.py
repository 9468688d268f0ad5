"""Oversight's tunables, read from settings with defaults (override in settings or tests)."""

from django.conf import settings


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


DEFAULTS = {
    # rows per chain seal: one seal re-hash reads this many rows
    "EXCHANGE_CHAIN_SEAL_BATCH": 1000,
    # rows younger than this are left for the next sealing run (see services.chain)
    "EXCHANGE_CHAIN_SETTLE_SECONDS": 300,
    # seals whose rows an ordinary audit re-hashes (the oldest-verified first)
    "EXCHANGE_CHAIN_VERIFY_BUDGET": 200,
    # A sells to B and B to A within this many days is a circular trade
    "EXCHANGE_CIRCULAR_TRADE_DAYS": 30,
    # connections an audit sweep runs its checks on (PostgreSQL; one elsewhere)
    "EXCHANGE_AUDIT_WORKERS": 2,
    # a run still "running" after this long is taken as crashed
    "EXCHANGE_AUDIT_STALE_MINUTES": 120,
    # snapshots kept; older ones are deleted by the refresh
    "EXCHANGE_STATS_KEEP": 48,
}
