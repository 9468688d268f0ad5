"""Owner and staff: the owner alone writes the profile, the bank account and the people;
staff work on products and orders with the owner's rights there.

Like test_merchant_isolation, the cases come from the routers and the admin
registry, so a new route or model admin is covered the day it is registered.
For a model only the owner writes, staff get 403 on every write and nothing
changes; for every other model staff get exactly the owner's answer (the
owner's request is rolled back before staff make the same one).
"""

import importlib
import re

import pytest
from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse

from config.urls import API_APPS
from core.scoping import OWNER_ROLE, PUBLIC
from tests.factories.accounts import MerchantFactory, PersonFactory
from tests.factories.world import BUILDERS, load_all_builders

load_all_builders()


def owner_only(model) -> bool:
    return getattr(model, "merchant_write_role", None) == OWNER_ROLE


def _write_requests():
    """(route id, viewset, basename, method, url name, needs the record) for every write."""
    for app in API_APPS:
        router = getattr(importlib.import_module(f"{app}.api.urls"), "router", None)
        if router is None:
            continue
        for prefix, viewset, basename in router.registry:
            if getattr(viewset, "queryset", None) is None:
                continue
            model = viewset.queryset.model
            if getattr(model, "merchant_scope", None) in (PUBLIC, ()):
                continue  # merchants write neither reference data nor operator records
            calls = [("post", "list", False, ()), ("patch", "detail", True, ())]
            calls += [("put", "detail", True, ()), ("delete", "detail", True, ())]
            for extra in viewset.get_extra_actions():
                # An action's own path parameters (a chunk's index, say).
                own = tuple(re.compile(extra.url_path).groupindex)
                for method in extra.mapping:
                    if method != "get":
                        calls.append((method, extra.url_name, extra.detail, own))
            for method, url_name, detail, own in calls:
                yield pytest.param(
                    viewset,
                    basename,
                    method,
                    url_name,
                    detail,
                    own,
                    id=f"{method} {prefix} {url_name}",
                )


def _state(model, pk):
    row = model.objects.filter(pk=pk).first()
    return None if row is None else model_to_dict(row)


def _answer(client, method, url):
    return getattr(client, method)(url, {}, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("viewset", "basename", "method", "url_name", "detail", "own_parameters"), _write_requests()
)
def test_api_staff_write_what_their_role_allows(
    viewset, basename, method, url_name, detail, own_parameters, api_client
):
    # given a record of the merchant, its owner and a staff member
    model = viewset.queryset.model
    merchant, counterparty = MerchantFactory(), MerchantFactory()
    record = BUILDERS[model](merchant, counterparty)
    owner = PersonFactory(merchant=merchant, merchant_role="owner")
    staff = PersonFactory(merchant=merchant, merchant_role="staff")
    kwargs = {name: "1" for name in own_parameters}
    if detail:
        lookup = viewset.lookup_url_kwarg or viewset.lookup_field or "pk"
        kwargs[lookup] = getattr(record, viewset.lookup_field or "pk")
    url = reverse(f"{basename}-{url_name}", kwargs=kwargs)
    before = _state(model, record.pk)

    # when the owner makes the request (undone afterwards) and staff make it too
    savepoint = transaction.savepoint()
    owner_answer = _answer(api_client(owner), method, url)
    transaction.savepoint_rollback(savepoint)
    staff_answer = _answer(api_client(staff), method, url)

    # then
    if owner_only(model):
        assert staff_answer.status_code == 403, staff_answer.content
        assert _state(model, record.pk) == before
    else:
        assert staff_answer.status_code == owner_answer.status_code, (
            owner_answer.content,
            staff_answer.content,
        )


def _model_admins():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in {"auth", "authtoken"}:
            continue
        yield pytest.param(model, model_admin, id=model._meta.label)


def _rights(model_admin, user, record):
    request = RequestFactory().get("/admin/")
    request.user = user
    return {
        "view": model_admin.has_view_permission(request, record),
        "add": model_admin.has_add_permission(request),
        "change": model_admin.has_change_permission(request, record),
        "delete": model_admin.has_delete_permission(request, record),
        "actions": sorted(model_admin.get_actions(request)),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "model_admin"), list(_model_admins()))
def test_admin_staff_write_what_their_role_allows(model, model_admin, client):
    # given
    merchant, counterparty = MerchantFactory(), MerchantFactory()
    record = BUILDERS[model](merchant, counterparty)
    owner = PersonFactory(merchant=merchant, merchant_role="owner")
    staff = PersonFactory(merchant=merchant, merchant_role="staff")
    # when
    owner_rights = _rights(model_admin, owner, record)
    staff_rights = _rights(model_admin, staff, record)
    # then
    if not owner_only(model):
        assert staff_rights == owner_rights
        return
    assert staff_rights["view"] == owner_rights["view"]
    assert not staff_rights["add"]
    assert not staff_rights["change"]
    assert not staff_rights["delete"]
    assert staff_rights["actions"] == []
    # and the pages agree: staff's POST to the change and add pages is refused
    info = (model._meta.app_label, model._meta.model_name)
    client.force_login(staff)
    before = _state(model, record.pk)
    changed = client.post(reverse("admin:{}_{}_change".format(*info), args=[record.pk]), {})
    added = client.post(reverse("admin:{}_{}_add".format(*info)), {})
    assert changed.status_code == 403
    assert added.status_code == 403
    assert _state(model, record.pk) == before


@pytest.mark.django_db
def test_staff_cannot_change_the_bank_account(api_client, client):
    # given
    merchant = MerchantFactory()
    staff = PersonFactory(merchant=merchant, merchant_role="staff")
    owner = PersonFactory(merchant=merchant, merchant_role="owner")
    url = reverse("merchant-detail", args=[merchant.pk])
    # when
    by_staff = api_client(staff).patch(url, {"bank_account_number": "6222000000000001"})
    by_owner = api_client(owner).patch(url, {"bank_account_number": "6222000000000002"})
    # then
    assert by_staff.status_code == 403
    assert by_owner.status_code == 200
    merchant.refresh_from_db()
    assert merchant.bank_account_number == "6222000000000002"
