"""A service that refuses while the admin saves answers with its reason, never a 500."""

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

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
