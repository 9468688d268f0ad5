import factory

from accounts.credit_code import ALPHABET, check_character
from accounts.models import Merchant, User


def make_credit_code(n: int) -> str:
    """A valid enterprise credit code (authority 9, type 1, Changsha), unique per n."""
    body = "91430100" + "".join(ALPHABET[(n // 31**i) % 31] for i in range(9))[::-1]
    return body + check_character(body)


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    legal_name = factory.Sequence(lambda n: f"Hunan Data Merchant {n} Co., Ltd.")
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1000))
    is_supplier = True
    region = "430100"
    contact_name = "Zhang San"
    contact_phone = "0731-88888888"
    contact_email = factory.Sequence(lambda n: f"contact{n}@merchant.example")
    bank_name = "Bank of Changsha"
    bank_account_name = factory.SelfAttribute("legal_name")
    bank_account_number = factory.Sequence(lambda n: f"6222{n:012d}")
    status = "active"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = True
    merchant = factory.SubFactory(MerchantFactory)
    merchant_role = "owner"
    password = factory.PostGenerationMethodCall("set_password", "pass-for-tests-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OperatorFactory(PersonFactory):
    username = factory.Sequence(lambda n: f"operator{n}")
    merchant = None  # type: ignore[assignment]  # an operator belongs to no merchant
    merchant_role = ""
    is_operator = True
