"""一行业一部门一授权 held by PostgreSQL: the exclusion constraint and concurrent requests."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.exceptions import Conflict
from publicdata import selectors, services
from publicdata.models import Grant
from tests.factories.accounts import MerchantFactory, OperatorFactory
from tests.factories.products import IndustryFactory
from tests.factories.publicdata import DepartmentFactory, GrantFactory

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_the_database_refuses_overlapping_grants_in_force(merchant_a, merchant_b):
    # given a grant in force
    first = GrantFactory.create(grantee=merchant_a)
    # when a second, overlapping one is written straight to the table, bypassing the service
    # then PostgreSQL refuses it
    refused = pytest.raises(IntegrityError, match="grant_one_in_force_per_industry_department")
    with refused, transaction.atomic():
        GrantFactory(
            grantee=merchant_b,
            department=first.department,
            industry=first.industry,
            valid_from=first.valid_until - dt.timedelta(days=1),
            valid_until=first.valid_until + dt.timedelta(days=10),
        )
    # but a touching window, or an overlapping ended grant, is accepted
    GrantFactory(
        grantee=merchant_b,
        department=first.department,
        industry=first.industry,
        valid_from=first.valid_until,
        valid_until=first.valid_until + dt.timedelta(days=10),
    )
    GrantFactory(
        grantee=merchant_b,
        department=first.department,
        industry=first.industry,
        status="revoked",
    )


@pytest.mark.django_db
def test_reactivating_nothing_can_bring_two_grants_into_force(merchant_a, merchant_b):
    # given a revoked grant and a newer one over the same window
    old = GrantFactory(grantee=merchant_a, status="revoked")
    GrantFactory(grantee=merchant_b, department=old.department, industry=old.industry)
    # when someone flips the old one back in force behind the services' back
    # then the database refuses
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.filter(pk=old.pk).update(status="active")


@pytest.mark.django_db
def test_a_race_lost_at_the_constraint_is_the_same_clear_409(merchant_a, merchant_b, monkeypatch):
    # given a grant in force, and a service whose own check is blinded once, as if the
    # competing grant committed between the check and the insert
    first = GrantFactory.create(grantee=merchant_a)
    real = selectors.grant_in_force_overlapping
    calls = {"n": 0}

    def blind_once(**kwargs):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(**kwargs)

    monkeypatch.setattr(selectors, "grant_in_force_overlapping", blind_once)
    # when the second grant is requested
    with pytest.raises(Conflict) as exc:
        services.grant_create(
            actor=None,
            department=first.department,
            industry=first.industry,
            grantee=merchant_b,
            valid_from=timezone.now(),
            valid_until=timezone.now() + dt.timedelta(days=10),
            revenue_share_bps=0,
            fee_ceiling_fen=0,
        )
    # then the constraint's refusal became the 409 naming the grant in force
    assert exc.value.extra["conflicting_grant"]["id"] == first.pk
    assert Grant.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_for_one_industry_and_department_exactly_one_wins():
    # given two operators' requests for the same industry at the same department
    department = DepartmentFactory()
    industry = IndustryFactory()
    grantees = [MerchantFactory(status="active"), MerchantFactory(status="active")]
    token = Token.objects.create(user=OperatorFactory()).key
    url = reverse("grant-list")
    start = timezone.now()
    barrier = threading.Barrier(2)
    responses: list[Any] = [None, None]

    def request(i):
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            payload = {
                "department": department.pk,
                "industry": industry.code,
                "grantee": grantees[i].pk,
                "valid_from": (start + dt.timedelta(days=i)).isoformat(),
                "valid_until": (start + dt.timedelta(days=365 + i)).isoformat(),
                "revenue_share_bps": 1000,
                "fee_ceiling": "1000.00",
            }
            barrier.wait(timeout=30)
            responses[i] = client.post(url, payload, format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(2)]
    # when both arrive at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly one wins and the other is told which grant holds the window
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409], [r.content for r in responses]
    won = next(r for r in responses if r.status_code == 201).json()
    lost = next(r for r in responses if r.status_code == 409).json()
    assert lost["error_code"] == "grant_in_force"
    assert lost["conflicting_grant"]["id"] == won["id"]
    assert lost["conflicting_grant"]["grantee"] == won["grantee"]
    assert Grant.objects.filter(department=department, industry=industry).count() == 1
