"""The people and records the trading scenarios start from, named as Chinese merchants name them."""

from dataclasses import dataclass

from accounts.models import Merchant, User
from products.models import Industry, PricingPlan, Product
from tests.browser.pages import PASSWORD
from tests.factories.accounts import MerchantFactory, OperatorFactory, PersonFactory
from tests.factories.marketplace import listed_product
from tests.factories.products import MANUAL, IndustryFactory, PlanFactory

MANUAL_ZH = {
    "manual_data_source": "全省 1,200 个自动气象站的逐小时观测。",
    "manual_content": "站点编号、观测时间、气温、降水量",
    "manual_coverage": "湖南省，2015 年至今",
    "manual_update_frequency": "每小时",
    "manual_quality": "与国家基准站网比对校验。",
    "manual_usage_restrictions": "不得转售原始记录。",
}
assert set(MANUAL_ZH) == set(MANUAL)


@dataclass
class World:
    operator: User
    seller: Merchant
    seller_owner: User
    buyer: Merchant
    buyer_owner: User
    industry: Industry
    product: Product
    plan: PricingPlan

    def typed(self) -> list[str]:
        """What people typed into these records, which a page may show as typed."""
        return [
            self.operator.username,
            self.seller_owner.username,
            self.buyer_owner.username,
            self.product.registration_number or "",
        ]


def _with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


def trading_world() -> World:
    """An operator; a seller with a listed product and a plan; a buyer. Everyone can sign in."""
    seller = MerchantFactory(
        legal_name="湖南星图数据科技有限公司",
        bank_name="长沙银行",
        bank_account_name="湖南星图数据科技有限公司",
        contact_name="李四",
    )
    buyer = MerchantFactory(
        legal_name="长沙云算信息技术有限公司",
        bank_name="湖南银行",
        bank_account_name="长沙云算信息技术有限公司",
        contact_name="王五",
    )
    industry = IndustryFactory(code="meteorology", name="气象", name_en="Meteorology")
    product = listed_product(
        provider=seller,
        title="湖南逐小时气象观测",
        summary="全省自动站逐小时观测数据",
        industry=industry,
        volume_bytes=1_990_000_000_000,
        **MANUAL_ZH,
    )
    plan = PlanFactory(product=product, name="一次性购买", price_fen=1_234_500)
    return World(
        operator=_with_password(OperatorFactory(username="yunying")),
        seller=seller,
        seller_owner=_with_password(PersonFactory(username="xingtu", merchant=seller)),
        buyer=buyer,
        buyer_owner=_with_password(PersonFactory(username="yunsuan", merchant=buyer)),
        industry=industry,
        product=product,
        plan=plan,
    )
