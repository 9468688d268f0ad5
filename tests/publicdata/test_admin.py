"""Grantees read their own grants and scenarios in the admin; operators act with a reason."""

import pytest
from django.urls import reverse

from tests.factories.publicdata import GrantFactory, ScenarioFactory

pytestmark = pytest.mark.django_db


def test_grantee_sees_only_its_grants_read_only(client, owner_a, merchant_a, merchant_b):
    # given grants to two merchants
    own = GrantFactory(grantee=merchant_a)
    GrantFactory(grantee=merchant_b)
    client.force_login(owner_a)
    # when merchant A's owner opens the list and its own grant
    listed = client.get(reverse("admin:publicdata_grant_changelist"))
    page = client.get(reverse("admin:publicdata_grant_change", args=[own.pk]))
    # then only its own grant is listed, read-only, with no actions
    assert list(listed.context["cl"].queryset) == [own]
    assert listed.context["cl"].model_admin.get_actions(listed.wsgi_request) == {}
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(reverse("admin:publicdata_grant_add"), {}).status_code == 403


def test_grantee_sees_only_its_scenarios(client, owner_a, merchant_a, merchant_b):
    own = ScenarioFactory(grant=GrantFactory(grantee=merchant_a))
    ScenarioFactory(grant=GrantFactory(grantee=merchant_b))
    client.force_login(owner_a)
    listed = client.get(reverse("admin:publicdata_scenario_changelist"))
    assert list(listed.context["cl"].queryset) == [own]
    page = client.get(reverse("admin:publicdata_scenario_change", args=[own.pk]))
    assert page.status_code == 200
    assert own.assessment.assessor in page.content.decode()


def test_operator_suspends_a_grant_from_the_list_with_a_reason(client, operator, merchant_a):
    grant = GrantFactory(grantee=merchant_a)
    client.force_login(operator)
    changelist = reverse("admin:publicdata_grant_changelist")
    # when the action is taken without a reason, nothing changes
    client.post(changelist, {"action": "suspend", "_selected_action": [grant.pk], "reason": ""})
    grant.refresh_from_db()
    assert grant.status == "active"
    # when with a reason, the grant is suspended and the reason recorded
    client.post(
        changelist, {"action": "suspend", "_selected_action": [grant.pk], "reason": "audit"}
    )
    grant.refresh_from_db()
    assert grant.status == "suspended"
    assert grant.events.get().reason == "audit"


def test_merchant_choosing_a_grant_sees_only_its_own(rf, owner_a, merchant_a, merchant_b):
    # the product admin narrows foreign-key choices through merchant_scope
    from django.contrib import admin

    from products.models import Product

    own = GrantFactory(grantee=merchant_a)
    GrantFactory(grantee=merchant_b)
    own_scenario = ScenarioFactory(grant=own)
    ScenarioFactory(grant=GrantFactory(grantee=merchant_b))
    request = rf.get("/")
    request.user = owner_a
    model_admin = admin.site._registry[Product]
    grant_field = model_admin.formfield_for_foreignkey(Product._meta.get_field("grant"), request)
    scenario_field = model_admin.formfield_for_manytomany(
        Product._meta.get_field("scenarios"), request
    )
    assert list(grant_field.queryset) == [own]
    assert list(scenario_field.queryset) == [own_scenario]


def test_operator_adds_a_department_and_entry_through_the_admin(client, operator):
    from publicdata.models import CatalogEntry, Department

    client.force_login(operator)
    added = client.post(
        reverse("admin:publicdata_department_add"),
        {"code": "HN-TJ", "name": "Hunan Provincial Bureau of Statistics", "level": "province"},
    )
    assert added.status_code == 302, added.content
    department = Department.objects.get(code="HN-TJ")
    entry = client.post(
        reverse("admin:publicdata_catalogentry_add"),
        {
            "department": department.pk,
            "code": "HN-TJ-001",
            "name": "Regional GDP",
            "fields": "region, quarter, gdp",
            "grade": "general",
            "update_frequency": "quarterly",
        },
    )
    assert entry.status_code == 302, entry.content
    changed = client.post(
        reverse("admin:publicdata_department_change", args=[department.pk]),
        {"name": "Hunan Statistics Bureau", "level": "province", "region": ""},
    )
    assert changed.status_code == 302
    department.refresh_from_db()
    assert (department.code, department.name) == ("HN-TJ", "Hunan Statistics Bureau")
    assert CatalogEntry.objects.get(code="HN-TJ-001").department == department


def test_merchant_cannot_add_a_department_in_the_admin(client, owner_a):
    client.force_login(owner_a)
    response = client.post(
        reverse("admin:publicdata_department_add"),
        {"code": "MINE", "name": "Mine", "level": "city"},
    )
    assert response.status_code == 403
