import pytest

from accounts import services
from accounts.choices import MerchantStatus
from accounts.models import Merchant
from core.exceptions import BusinessRuleViolation, InvalidTransition
from tests.factories.accounts import MerchantFactory, make_credit_code

pytestmark = pytest.mark.django_db

LEGAL = {
    ("applied", "approve"): "active",
    ("applied", "exit"): "exited",
    ("active", "suspend"): "suspended",
    ("active", "exit"): "exited",
    ("suspended", "reinstate"): "active",
    ("suspended", "exit"): "exited",
}
SERVICES = {
    "approve": services.merchant_approve,
    "suspend": services.merchant_suspend,
    "reinstate": services.merchant_reinstate,
    "exit": services.merchant_exit,
}


def _register(operator, **overrides):
    data = {
        "legal_name": "Changsha Weather Data Co., Ltd.",
        "credit_code": make_credit_code(7),
        "kinds": ["supplier", "technical"],
        "region": "430100",
        "contact_name": "Li Si",
        "contact_phone": "0731-12345678",
    }
    data.update(overrides)
    return services.merchant_register(actor=operator, **data)


def test_registration_starts_applied_and_records_who(operator):
    # when
    merchant = _register(operator)
    # then
    assert merchant.status == MerchantStatus.APPLIED
    assert merchant.kinds == ["supplier", "technical"]
    event = merchant.events.get()
    assert (event.actor, event.to_status) == (operator, "applied")


def test_duplicate_credit_code_is_refused(operator):
    _register(operator)
    with pytest.raises(BusinessRuleViolation) as caught:
        _register(operator, legal_name="Another name")
    assert caught.value.field == "credit_code"
    assert Merchant.objects.count() == 1


def test_invalid_credit_code_is_refused_naming_the_rule(operator):
    with pytest.raises(BusinessRuleViolation) as caught:
        _register(operator, credit_code="9144030071526726XH")
    assert (caught.value.field, caught.value.code) == ("credit_code", "check_character")
    assert not Merchant.objects.exists()


@pytest.mark.parametrize("start", ["applied", "active", "suspended", "exited"])
@pytest.mark.parametrize("verb", ["approve", "suspend", "reinstate", "exit"])
def test_every_status_move(operator, start, verb):
    # given
    merchant = MerchantFactory(status=start)
    target = LEGAL.get((start, verb))
    # when / then
    if target is not None:
        result = SERVICES[verb](actor=operator, merchant=merchant, reason="checked")
        assert result.status == target
        event = result.events.latest("id")
        assert (event.from_status, event.to_status, event.actor, event.reason) == (
            start,
            target,
            operator,
            "checked",
        )
        return
    idempotent_target = {"approve": "active", "suspend": "suspended", "exit": "exited"}.get(verb)
    if start == idempotent_target or (verb == "reinstate" and start == "active"):
        # asking for the state it already has changes nothing
        result = SERVICES[verb](actor=operator, merchant=merchant, reason="again")
        assert result.status == start
        assert not result.events.exists()
        return
    with pytest.raises(InvalidTransition):
        SERVICES[verb](actor=operator, merchant=merchant, reason="not allowed")
    merchant.refresh_from_db()
    assert merchant.status == start
    assert not merchant.events.exists()


def test_profile_update_cannot_touch_status(owner_a, merchant_a):
    with pytest.raises(BusinessRuleViolation):
        services.merchant_update_profile(actor=owner_a, merchant=merchant_a, status="exited")
    merchant_a.refresh_from_db()
    assert merchant_a.status == "active"


def test_person_belongs_to_one_merchant_as_owner_or_staff(merchant_a):
    with pytest.raises(BusinessRuleViolation):
        services.person_create(username="x", password="pw-123456789", merchant=merchant_a)
    with pytest.raises(BusinessRuleViolation):
        services.person_create(
            username="y", password="pw-123456789", merchant=merchant_a, is_operator=True
        )
    staff = services.person_create(
        username="z", password="pw-123456789", merchant=merchant_a, role="staff"
    )
    assert (staff.merchant, staff.merchant_role, staff.is_operator) == (merchant_a, "staff", False)
