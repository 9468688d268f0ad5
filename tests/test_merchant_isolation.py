"""A merchant sees and changes only its own records: every API route, every admin page.

The routes and model admins are discovered, not listed, so a new endpoint is
covered the moment it is registered; a model without a builder in
tests/factories/world.py fails the test rather than being skipped.
"""

import importlib

import pytest
from django.contrib import admin
from django.urls import reverse

from config.urls import API_APPS
from core.scoping import PUBLIC
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.world import BUILDERS, load_all_builders

load_all_builders()


def _api_routes():
    for app in API_APPS:
        router = getattr(importlib.import_module(f"{app}.api.urls"), "router", None)
        if router is None:
            continue
        for prefix, viewset, basename in router.registry:
            queryset = getattr(viewset, "queryset", None)
            if queryset is not None:
                yield pytest.param(prefix, viewset, basename, id=prefix)


def _model_admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"auth", "authtoken"}:
            continue
        yield pytest.param(model, model_admin, id=model._meta.label)


@pytest.fixture
def three_merchants(db):
    owner, counterparty, outsider = (MerchantFactory() for _ in range(3))
    return owner, counterparty, outsider


def _scope(model):
    return getattr(model, "merchant_scope", None)


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "viewset", "basename"), list(_api_routes()))
def test_api_route_shows_a_merchant_only_its_own(
    prefix, viewset, basename, three_merchants, api_client
):
    # given a record owned by one merchant
    model = viewset.queryset.model
    owner, counterparty, outsider = three_merchants
    assert model in BUILDERS, f"register a builder for {model.__name__} in tests/factories"
    record = BUILDERS[model](owner, counterparty)
    outsider_api = api_client(PersonFactory(merchant=outsider))
    owner_api = api_client(PersonFactory(merchant=owner))
    lookup = getattr(record, viewset.lookup_field or "pk")
    detail_url = reverse(f"{basename}-detail", args=[lookup])
    list_url = reverse(f"{basename}-list")

    if _scope(model) == PUBLIC or getattr(viewset, "published_listing", False):
        # reference data and published listings: everyone reads them, no merchant writes
        assert outsider_api.get(detail_url).status_code == 200
        assert outsider_api.patch(detail_url, {}, format="json").status_code in (403, 405)
        assert outsider_api.post(list_url, {}, format="json").status_code in (403, 405)
        assert outsider_api.delete(detail_url).status_code in (403, 405)
        return

    # when another merchant lists, opens, edits or deletes it
    listed = outsider_api.get(list_url, {"page_size": 500})
    opened = outsider_api.get(detail_url)
    patched = outsider_api.patch(detail_url, {}, format="json")
    deleted = outsider_api.delete(detail_url)

    # then it is invisible to them, and untouched
    assert listed.status_code == 200
    ids = {str(row.get("id")) for row in listed.json()["results"]}
    assert str(record.pk) not in ids
    assert opened.status_code == 404
    assert patched.status_code in (403, 404, 405)
    assert deleted.status_code in (403, 404, 405)
    assert model.objects.filter(pk=record.pk).exists()
    owner_sees = owner_api.get(detail_url).status_code
    assert owner_sees == (404 if _scope(model) == () else 200)


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), list(_model_admins()))
def test_admin_page_shows_a_merchant_only_its_own(model, model_admin, three_merchants, client):
    # given
    owner, counterparty, outsider = three_merchants
    assert model in BUILDERS, f"register a builder for {model.__name__} in tests/factories"
    record = BUILDERS[model](owner, counterparty)
    info = (model._meta.app_label, model._meta.model_name)
    change_url = reverse("admin:{}_{}_change".format(*info), args=[record.pk])
    changelist_url = reverse("admin:{}_{}_changelist".format(*info))

    # when another merchant's person types the record's URL
    client.force_login(PersonFactory(merchant=outsider))
    typed = client.get(change_url)
    posted = client.post(change_url, {})
    listed = client.get(changelist_url)

    # then the page does not open and nothing changes
    if _scope(model) == PUBLIC:
        assert typed.status_code in (200, 403)
        assert posted.status_code in (403, 200)
        return
    assert typed.status_code in (302, 403, 404)
    if typed.status_code == 302:
        assert typed["Location"].rstrip("/").endswith("/admin")
    assert posted.status_code in (302, 403, 404)
    if listed.status_code == 200:
        assert record not in listed.context["cl"].queryset
    assert model.objects.filter(pk=record.pk).exists()
