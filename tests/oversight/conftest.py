"""A small, clean exchange to audit, and ways to corrupt it behind the app's back."""

import contextlib
from types import SimpleNamespace

import pytest
from django.db import connection

from settlements.migrations_sql import IMMUTABLE_TABLES
from settlements.services.clearing import clearing_run_for_day
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.marketplace import accepted, delivered, listed_product, pay, place
from tests.factories.products import BoardFactory, PlanFactory
from tests.factories.publicdata import GrantFactory, ScenarioFactory
from tests.factories.settlements import a_past_day, default_fee, make_accepted_orders


@pytest.fixture(autouse=True)
def _seal_at_once(settings):
    # Tests seal what they just wrote; production waits for open transactions.
    settings.EXCHANGE_CHAIN_SETTLE_SECONDS = 0


@pytest.fixture
def exchange(db):
    """Orders in every live state, a cleared day, a listed public-data product: all correct."""
    default_fee(300)
    board = BoardFactory(name="Weather board")
    sellers = [MerchantFactory(region="430100"), MerchantFactory(region="430200")]
    buyers = [MerchantFactory(region="430300"), MerchantFactory(region="430100")]
    for merchant in sellers + buyers:
        PersonFactory(merchant=merchant, merchant_role="owner")
    day = a_past_day()
    cleared = make_accepted_orders(
        day=day, count=4, sellers=sellers, buyers=buyers, amounts=[10_000], board=board
    )
    clearing_run_for_day(business_date=day)
    plan = PlanFactory(product=listed_product(provider=sellers[0], board=board), price_fen=25_00)
    pending = place(buyers[0], plan)
    paid = pay(place(buyers[1], plan))
    shipped = delivered(buyers[0], plan)
    done = accepted(buyers[1], plan, quantity=2)
    grant = GrantFactory(grantee=sellers[1])
    scenario = ScenarioFactory(grant=grant)
    public = listed_product(provider=sellers[1], source_kind="public", grant=grant)
    public.scenarios.add(scenario)
    return SimpleNamespace(
        board=board,
        sellers=sellers,
        buyers=buyers,
        day=day,
        cleared=cleared,
        plan=plan,
        pending=pending,
        paid=paid,
        delivered=shipped,
        accepted=done,
        grant=grant,
        scenario=scenario,
        public_product=public,
    )


@contextlib.contextmanager
def ledger_unlocked():
    """Let raw SQL change ledger rows, as an intruder with database access could.

    On PostgreSQL the immutability triggers are disabled inside the test's own
    transaction (rolled back with it); SQLite has no such triggers.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # ALTER TABLE refuses while deferred foreign-key checks are pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in IMMUTABLE_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_immutable")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in IMMUTABLE_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_immutable")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def raw(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
