"""Scenario 1: a company applies to join; an operator sends the application back with a reason;
the company corrects and resubmits it; the operator approves it; its owner signs in."""

from django.core import mail

from accounts.models import User
from tests.browser.pages import (
    PASSWORD,
    apply_to_join,
    resubmit_from_mail,
    run_action,
    set_password_from_mail,
    sign_in,
)
from tests.factories.accounts import OperatorFactory, make_credit_code

COMPANY = {
    "legal_name": "湖南星图数据科技有限公司",
    "credit_code": make_credit_code(8801),
    "kinds": ["supplier", "service"],
    "region": "430100",
    "address": "长沙市岳麓区麓谷大道 100 号",
    "contact_name": "李四",
    "contact_phone": "0731-12345678",
    "contact_email": "lisi@xingtu.example",
    "bank_name": "长沙银行麓谷支行",
    "bank_account_name": "湖南星图数据科技有限公司",
    "bank_account_number": "6222000012345678",
    "owner_username": "xingtu",
    "owner_email": "owner@xingtu.example",
}


REASON = "开户行名称与营业执照不符，请按开户许可证填写"
CORRECTED_BANK = "长沙银行股份有限公司麓谷支行"
APPLICATIONS = "/admin/accounts/merchantapplication/"


def test_a_company_applies_is_sent_back_corrects_and_its_owner_signs_in(steps, tmp_path):
    # given an operator of the exchange
    operator = OperatorFactory(username="yunying")
    operator.set_password(PASSWORD)
    operator.save()
    steps.allow(operator.username, COMPANY["owner_username"])
    # when a company applies on the public page, with its licence scan
    company = steps.person()
    application = apply_to_join(steps, company, tmp_path, COMPANY)
    assert application.status == "submitted"
    # and the operator reads it in the admin and sends it back with a reason
    desk = steps.person()
    sign_in(steps, desk, operator.username)
    desk.goto(f"{APPLICATIONS}{application.pk}/change/")
    steps.shot(desk, "application")
    run_action(steps, desk, APPLICATIONS, application.pk, "reject", reason=REASON)
    application.refresh_from_db()
    assert (application.status, application.rejection_reason) == ("rejected", REASON)
    # then the company reads the reason on the link of its e-mail, corrects and resubmits
    resubmit_from_mail(steps, company, COMPANY["owner_email"], {"bank_name": CORRECTED_BANK})
    assert REASON in "".join(m.body for m in mail.outbox)
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.merchant.bank_name == CORRECTED_BANK
    # and the operator approves the corrected application
    desk.goto(f"{APPLICATIONS}{application.pk}/change/")
    steps.shot(desk, "application-corrected")
    assert CORRECTED_BANK in desk.inner_text("body")
    run_action(steps, desk, APPLICATIONS, application.pk, "approve")
    assert COMPANY["owner_email"] in desk.inner_text(".messagelist")
    # then the owner sets a password from the e-mail, signs in and lands on its own page
    set_password_from_mail(steps, company, COMPANY["owner_email"])
    sign_in(steps, company, COMPANY["owner_username"])
    application.refresh_from_db()
    assert application.status == "approved"
    owner = User.objects.get(username=COMPANY["owner_username"])
    assert owner.merchant == application.merchant
    assert application.merchant.status == "active"
    # the merchant's landing page: its orders, balances and products
    assert company.url.endswith("/admin/")
    assert company.locator("#desk-orders").is_visible()
