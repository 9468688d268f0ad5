import pytest

from settlements.choices import AccountKind
from settlements.services.ledger import account_get
from tests.factories.accounts import MerchantFactory
from tests.factories.marketplace import listed_product
from tests.factories.products import PlanFactory


@pytest.fixture
def seller(db):
    return MerchantFactory(legal_name="Xiang Weather Data Co.")


@pytest.fixture
def buyer(db):
    return MerchantFactory(legal_name="Yuelu Logistics Co.")


@pytest.fixture
def product(seller):
    return listed_product(provider=seller, manual_usage_restrictions="No resale; Hunan only.")


@pytest.fixture
def plan(product):
    return PlanFactory(product=product, kind="one_off", price_fen=120_00)


def escrow_of(merchant) -> int:
    account = account_get(kind=AccountKind.MERCHANT_ESCROW, merchant=merchant)
    account.refresh_from_db()
    return account.balance_fen


def bank_clearing() -> int:
    account = account_get(kind=AccountKind.BANK_CLEARING)
    account.refresh_from_db()
    return account.balance_fen
