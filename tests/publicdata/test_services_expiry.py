"""The hourly expiry sweep: grants and scenario authorizations past their window."""

import datetime as dt

import pytest
from django.utils import timezone

from publicdata.services import grants_expire
from tests.factories.publicdata import GrantFactory, ScenarioFactory
from tests.publicdata.conftest import make_public_product

pytestmark = pytest.mark.django_db


def test_grant_past_its_window_expires_and_its_products_are_suspended(public_product, grant):
    # given the hour after the grant's window ended
    later = grant.valid_until + dt.timedelta(minutes=5)
    # when the sweep runs
    summary = grants_expire(at=later)
    # then the grant expired, its product is suspended because of the grant, both recorded
    grant.refresh_from_db()
    public_product.refresh_from_db()
    assert grant.status == "expired"
    assert grant.events.latest("id").actor is None
    assert (public_product.status, public_product.suspension_cause) == ("suspended", "grant")
    assert summary.grants_expired == 1
    assert summary.products_suspended == 1


def test_sweep_is_idempotent(public_product, grant):
    later = grant.valid_until + dt.timedelta(minutes=5)
    grants_expire(at=later)
    again = grants_expire(at=later)
    assert again.as_dict() == {"grants_expired": 0, "scenarios_expired": 0, "products_suspended": 0}
    assert grant.events.filter(to_status="expired").count() == 1
    assert public_product.events.filter(to_status="suspended").count() == 1


def test_grants_still_in_window_are_untouched(public_product, grant):
    summary = grants_expire(at=timezone.now())
    grant.refresh_from_db()
    public_product.refresh_from_db()
    assert (grant.status, public_product.status) == ("active", "listed")
    assert summary.grants_expired == 0


def test_scenario_authorization_ending_suspends_the_products_serving_it(grant, merchant_a):
    # given two scenarios, one authorized only until yesterday's end
    lasting = ScenarioFactory(grant=grant)
    lapsing = ScenarioFactory(grant=grant)
    end = timezone.now() + dt.timedelta(hours=1)
    lapsing.authorization.valid_until = end
    lapsing.authorization.save()
    serving_lapsing = make_public_product(grant, lasting, lapsing)
    serving_lasting = make_public_product(grant, lasting)
    # when the sweep runs after the lapsing window ended
    summary = grants_expire(at=end + dt.timedelta(minutes=1))
    # then only that scenario expired and only its product is suspended
    lapsing.refresh_from_db()
    lasting.refresh_from_db()
    serving_lapsing.refresh_from_db()
    serving_lasting.refresh_from_db()
    assert (lapsing.status, lasting.status) == ("expired", "authorized")
    assert lapsing.events.latest("id").to_status == "expired"
    assert serving_lapsing.status == "suspended"
    assert serving_lasting.status == "listed"
    assert summary.scenarios_expired == 1


def test_pending_grant_whose_window_ended_expires(merchant_a):
    grant = GrantFactory(
        grantee=merchant_a,
        status="pending",
        valid_from=timezone.now() - dt.timedelta(days=3),
        valid_until=timezone.now() - dt.timedelta(days=1),
    )
    grants_expire()
    grant.refresh_from_db()
    assert grant.status == "expired"


def test_a_listed_product_missed_by_an_interrupted_run_is_caught(public_product, grant):
    # given a grant expired by an earlier run that stopped before suspending products
    grant.status = "expired"
    grant.save()
    # when the next run comes
    summary = grants_expire()
    # then the product is suspended
    public_product.refresh_from_db()
    assert public_product.status == "suspended"
    assert summary.products_suspended == 1
