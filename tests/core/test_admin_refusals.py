"""A service that refuses while the admin saves answers with its reason, never a 500."""

import inspect

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from core.admin import saved_through_service
from core.exceptions import BusinessRuleViolation
from products.admin import ReferenceSavedThroughServices
from products.models import Industry


def _refuse(**_terms):
    raise BusinessRuleViolation("名称已被另一个行业使用", field="name")


class RefusingIndustryAdmin(ReferenceSavedThroughServices):
    fields = ("code", "name", "name_en", "data_theme", "is_active")
    save_service = staticmethod(_refuse)


def _post(user, data):
    request = RequestFactory().post("/admin/products/industry/add/", data)
    request.user = user
    request._dont_enforce_csrf_checks = True  # as the test client does
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.django_db
def test_a_refusal_in_save_model_is_shown_and_changes_nothing(operator):
    operator.is_superuser = True
    operator.save()
    model_admin = RefusingIndustryAdmin(Industry, admin.AdminSite())
    request = _post(operator, {"code": "weather-x", "name": "气象", "is_active": "on"})

    response = model_admin.changeform_view(request)

    assert response.status_code == 302
    assert response["Location"] == "/admin/products/industry/add/"
    shown = [str(message) for message in get_messages(request)]
    assert len(shown) == 1
    assert shown[0].endswith(": 名称已被另一个行业使用")  # the field's name, then why
    assert not Industry.objects.filter(code="weather-x").exists()


def _form(*fields):
    return forms.modelform_factory(Industry, fields=list(fields))()


def _refusing(field):
    def call():
        raise BusinessRuleViolation("不符合规则", field=field)

    return call


def test_the_one_helper_names_the_field_the_form_or_its_model_has():
    # a field on the form, one of the model the form leaves read-only, one of neither
    with pytest.raises(forms.ValidationError) as on_form:
        saved_through_service(_refusing("name"), _form("name"))
    with pytest.raises(forms.ValidationError) as read_only:
        saved_through_service(_refusing("code"), _form("name"))
    with pytest.raises(forms.ValidationError) as neither:
        saved_through_service(_refusing("plans.0.price"), _form("name"))
    assert on_form.value.message_dict == {"name": ["不符合规则"]}
    assert read_only.value.message_dict == {"code": ["不符合规则"]}
    assert neither.value.messages == ["不符合规则"]
    assert not hasattr(neither.value, "error_dict")
    # and what the service returns is handed back
    assert saved_through_service(lambda: 7, forms.Form()) == 7


def test_products_and_publicdata_admins_share_the_helper():
    import products.admin
    import publicdata.admin

    for module in (products.admin, publicdata.admin):
        source = inspect.getsource(module)
        assert "saved_through_service(" in source
    assert "except BusinessRuleViolation" not in inspect.getsource(ReferenceSavedThroughServices)
    assert not hasattr(publicdata.admin, "_saved_through")


@pytest.mark.django_db
def test_a_department_refused_on_save_is_shown_with_its_field_and_not_saved(client, operator):
    # given a department whose code is taken (the service refuses, naming code)
    from tests.factories.publicdata import DepartmentFactory

    DepartmentFactory(code="HN-GA")
    client.force_login(operator)
    # when another is added with that code in the admin
    response = client.post(
        "/admin/publicdata/department/add/",
        {"code": "HN-GA", "name": "又一个公安厅", "level": "province"},
        follow=True,
    )
    # then the page says why and nothing is saved
    assert response.status_code == 200
    from publicdata.models import Department

    assert Department.objects.filter(code="HN-GA").count() == 1
