"""Joining the exchange (入驻): the public application, the operator's review, resubmission."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Merchant, MerchantApplication, User
from accounts.services import joining
from tests.factories.accounts import MerchantFactory, PersonFactory, make_credit_code

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 200
CHANGELIST = "admin:accounts_merchantapplication_changelist"


@pytest.fixture(autouse=True)
def _isolated_uploads_and_throttle(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "zh-hans"
    cache.clear()
    yield
    cache.clear()


def application_data(n: int = 1, **overrides):
    data = {
        "legal_name": f"湖南星图数据{n}有限公司",
        "credit_code": make_credit_code(7000 + n),
        "kinds": ["supplier", "service"],
        "region": "430100",
        "address": "长沙市岳麓区",
        "contact_name": "李四",
        "contact_phone": "0731-12345678",
        "contact_email": f"contact{n}@xingtu.example",
        "bank_name": "长沙银行",
        "bank_account_name": f"湖南星图数据{n}有限公司",
        "bank_account_number": f"62220000{n:08d}",
        "owner_username": f"xingtu{n}",
        "owner_email": f"owner{n}@xingtu.example",
        "licence_scan": SimpleUploadedFile("licence.png", PNG, content_type="image/png"),
    }
    data.update(overrides)
    return data


def apply(client, **overrides):
    return client.post(reverse("join-apply"), application_data(**overrides))


def decide(client, application, action, reason=""):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [application.pk], "reason": reason},
        follow=True,
    )


def link_in(message) -> str:
    return re.search(r"http://testserver(\S+)", message.body).group(1)


def test_the_public_page_speaks_chinese_and_needs_no_sign_in(client):
    page = client.get(reverse("join-apply"), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert page.status_code == 200
    text = page.content.decode()
    assert "营业执照" in text
    assert "统一社会信用代码" in text


def test_a_company_applies_and_lands_as_an_applied_merchant(client):
    response = apply(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("join-sent")
    application = MerchantApplication.objects.get()
    assert application.status == "submitted"
    assert application.merchant.status == "applied"
    assert application.merchant.kinds == ["supplier", "service"]
    assert application.licence_scan.name.endswith(".png")
    assert "licence.png" not in (application.licence_scan.name or "")
    assert application.licence_scan.storage.exists(application.licence_scan.name)
    assert [e.to_status for e in application.events.all()] == ["submitted"]
    assert not User.objects.filter(username="xingtu1").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"credit_code": "91430100ABCDEFGH1X"}, "credit_code"),
        ({"kinds": []}, "kinds"),
        ({"region": "110000"}, "region"),
        ({"bank_account_number": ""}, "bank_account_number"),
        ({"owner_email": "not-an-address"}, "owner_email"),
        ({"owner_username": "has space"}, "owner_username"),
        # A text file named like a PDF: the content decides, not the name.
        (
            {
                "licence_scan": SimpleUploadedFile(
                    "licence.pdf", b"just text " * 30, "application/pdf"
                )
            },
            "licence_scan",
        ),
        ({"licence_scan": SimpleUploadedFile("licence.png", b"", "image/png")}, "licence_scan"),
    ],
)
def test_a_bad_application_names_the_field_and_changes_nothing(client, overrides, field):
    response = apply(client, **overrides)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Merchant.objects.exists()
    assert not MerchantApplication.objects.exists()


def test_a_licence_over_the_limit_is_refused_in_words(client, settings):
    settings.MERCHANT_LICENCE_MAX_BYTES = 100
    response = apply(client, licence_scan=SimpleUploadedFile("l.pdf", PDF, "application/pdf"))
    assert response.status_code == 400
    assert "100" not in str(response.context["form"].errors)  # said in MB, not bytes
    assert "licence_scan" in response.context["form"].errors
    assert not MerchantApplication.objects.exists()


def test_a_registered_credit_code_or_taken_username_is_refused(client):
    existing = MerchantFactory()
    response = apply(client, credit_code=existing.credit_code)
    assert response.status_code == 400
    assert "credit_code" in response.context["form"].errors
    PersonFactory(username="xingtu1")
    response = apply(client, n=2, owner_username="xingtu1")
    assert "owner_username" in response.context["form"].errors
    assert not MerchantApplication.objects.exists()


def test_the_public_page_is_throttled_per_address(client, settings):
    settings.JOIN_THROTTLE_RATE = "2/hour"
    assert apply(client, n=1).status_code == 302
    assert apply(client, n=2).status_code == 302
    refused = apply(client, n=3)
    assert refused.status_code == 429
    assert MerchantApplication.objects.count() == 2
    assert client.get(reverse("join-apply")).status_code == 200  # reading is not throttled


def test_operator_approves_owner_sets_password_and_signs_in(
    client, operator, django_capture_on_commit_callbacks
):
    apply(client)
    application = MerchantApplication.objects.get()
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        page = decide(client, application, "approve")
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.merchant.status == "active"
    owner = User.objects.get(username="xingtu1")
    assert owner.merchant == application.merchant
    assert owner.merchant_role == "owner"
    assert not owner.has_usable_password()
    # The operator sees what was sent, without the one-time link.
    shown = " ".join(str(m) for m in page.context["messages"])
    assert "owner1@xingtu.example" in shown
    assert "xingtu1" in shown
    assert "/password/set/" not in application.owner_notice
    (message,) = mail.outbox
    assert message.to == ["owner1@xingtu.example"]
    assert "xingtu1" in message.body
    # The owner follows the link, picks a password and signs in.
    client.logout()
    form_page = client.get(link_in(message), follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "xingtu-Owner-2026", "new_password2": "xingtu-Owner-2026"}
    )
    assert done.status_code == 302
    assert authenticate(username="xingtu1", password="xingtu-Owner-2026") == owner
    assert client.login(username="xingtu1", password="xingtu-Owner-2026")
    assert client.get(reverse("admin:index")).status_code == 200
    # Approving twice changes nothing more.
    client.force_login(operator)
    decide(client, application, "approve")
    assert User.objects.filter(merchant=application.merchant).count() == 1


def test_rejection_needs_a_reason_then_the_company_corrects_and_resends(
    client, operator, django_capture_on_commit_callbacks
):
    apply(client)
    application = MerchantApplication.objects.get()
    client.force_login(operator)
    decide(client, application, "reject", reason="")
    application.refresh_from_db()
    assert application.status == "submitted"
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, application, "reject", reason="营业执照扫描件模糊")
    application.refresh_from_db()
    assert application.status == "rejected"
    (message,) = mail.outbox
    assert "营业执照扫描件模糊" in message.body
    client.logout()
    link = link_in(message)
    page = client.get(link)
    assert page.status_code == 200
    assert "营业执照扫描件模糊" in page.content.decode()
    assert page.context["form"].initial["credit_code"] == application.merchant.credit_code
    data = application_data(legal_name="湖南星图数据科技有限公司")
    del data["owner_username"]
    data["kinds"] = ["technical"]
    data["licence_scan"] = SimpleUploadedFile("scan.pdf", PDF, "application/pdf")
    response = client.post(link, data)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.revision == 2
    assert application.merchant.legal_name == "湖南星图数据科技有限公司"
    assert application.merchant.kinds == ["technical"]
    assert application.licence_scan.name.endswith(".pdf")
    assert [e.to_status for e in application.events.all()] == ["submitted", "rejected", "submitted"]
    # The link was for that sending only.
    assert client.get(link).status_code == 404


def test_a_bad_resubmission_names_the_field_and_changes_nothing(
    client, operator, django_capture_on_commit_callbacks
):
    apply(client)
    application = MerchantApplication.objects.get()
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, application, "reject", reason="开户行有误")
    client.logout()
    data = application_data(credit_code="123")
    del data["owner_username"]
    response = client.post(link_in(mail.outbox[0]), data)
    assert response.status_code == 400
    assert "credit_code" in response.context["form"].errors
    application.refresh_from_db()
    assert application.status == "rejected"
    assert application.revision == 1


def test_a_forged_resubmission_link_opens_nothing(client):
    assert client.get(reverse("join-resubmit", args=["forged:token"])).status_code == 404


def test_merchants_never_see_anothers_application_or_decide(client, owner_a, operator):
    apply(client)
    other = MerchantApplication.objects.get()
    client.force_login(owner_a)
    changelist = client.get(reverse(CHANGELIST))
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].queryset) == []
    assert decide(client, other, "approve").status_code in (200, 302)
    other.refresh_from_db()
    assert other.status == "submitted"
    licence = reverse("admin:accounts_merchantapplication_licence", args=[other.pk])
    assert client.get(licence).status_code == 404
    with pytest.raises(joining.PermissionDenied):
        joining.merchant_application_approve(
            actor=owner_a, application=other, build_link=lambda p: p
        )
    client.force_login(operator)
    scan = client.get(licence)
    assert scan.status_code == 200
    assert b"".join(scan.streaming_content).startswith(b"\x89PNG")
