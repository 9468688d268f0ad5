"""Scenario 1: a company applies to join, an operator approves it, its owner signs in."""

from accounts.models import User
from tests.browser.pages import PASSWORD, apply_to_join, run_action, set_password_from_mail, sign_in
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


def test_a_company_applies_an_operator_approves_and_the_owner_signs_in(steps, tmp_path):
    # given an operator of the exchange
    operator = OperatorFactory(username="yunying")
    operator.set_password(PASSWORD)
    operator.save()
    steps.allow(operator.username, COMPANY["owner_username"])
    # when a company applies on the public page
    company = steps.person()
    application = apply_to_join(steps, company, tmp_path, COMPANY)
    assert application.status == "submitted"
    # and the operator approves it in the admin
    desk = steps.person()
    sign_in(steps, desk, operator.username)
    desk.goto(f"/admin/accounts/merchantapplication/{application.pk}/change/")
    steps.shot(desk, "application")
    run_action(steps, desk, "/admin/accounts/merchantapplication/", application.pk, "approve")
    assert COMPANY["owner_email"] in desk.inner_text(".messagelist")
    # then the owner sets a password from the e-mail and signs in to the admin
    set_password_from_mail(steps, company, COMPANY["owner_email"])
    sign_in(steps, company, COMPANY["owner_username"])
    application.refresh_from_db()
    assert application.status == "approved"
    owner = User.objects.get(username=COMPANY["owner_username"])
    assert owner.merchant == application.merchant
    assert application.merchant.status == "active"
    assert COMPANY["legal_name"] in company.inner_text("body") or company.url.endswith("/admin/")
