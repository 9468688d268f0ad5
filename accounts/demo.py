"""Demo merchants and people."""

from accounts.choices import KIND_FIELDS, MerchantRole, MerchantStatus, Region
from accounts.credit_code import ALPHABET, check_character
from accounts.models import Merchant
from accounts.services import merchant_approve, merchant_register, person_create
from core.demo import DEMO_MERCHANT_OWNER, DEMO_OPERATOR, DemoContext

NAME_PARTS = ["Xiang", "Lu", "Yuelu", "Dongting", "Furong", "Hengshan", "Wuling", "Xiaoxiang"]
NAME_KINDS = ["Data Technology", "Information Services", "Digital Intelligence", "Analytics"]


def demo_credit_code(context: DemoContext, region: str) -> str:
    while True:
        body = "91" + region + "".join(context.rng.choice(ALPHABET) for _ in range(9))
        code = body + check_character(body)
        if not Merchant.objects.filter(credit_code=code).exists():
            return code


def seed(context: DemoContext) -> None:
    operator = person_create(
        username=DEMO_OPERATOR[0], password=DEMO_OPERATOR[1], is_operator=True,
        email="operator@exchange.example",
    )  # fmt: skip
    context.made["operator"] = operator
    regions = list(Region.values)
    kinds = list(KIND_FIELDS)
    merchants = []
    for i in range(context.merchants):
        region = regions[i % len(regions)]
        merchant = merchant_register(
            actor=operator,
            legal_name=(
                f"{context.rng.choice(NAME_PARTS)} {context.rng.choice(NAME_KINDS)} "
                f"Co., Ltd. No. {i + 1}"
            ),
            credit_code=demo_credit_code(context, region),
            kinds=context.rng.sample(kinds, context.rng.randint(1, 2)),
            region=region,
            contact_name=f"Contact {i + 1}",
            contact_phone=f"0731-8{i:07d}",
            bank_name="Bank of Changsha",
            bank_account_number=f"6222{i:012d}",
        )
        # Most applicants are approved; a few wait for review.
        if i == 0 or context.rng.random() < 0.9:
            merchant = merchant_approve(
                actor=operator, merchant=merchant, reason="documents checked"
            )
        merchants.append(merchant)
        context.progress("merchants", i + 1, context.merchants)
    first = merchants[0]
    person_create(
        username=DEMO_MERCHANT_OWNER[0], password=DEMO_MERCHANT_OWNER[1],
        merchant=first, role=MerchantRole.OWNER, email="owner@merchant.example",
    )  # fmt: skip
    context.made["merchants"] = [m for m in merchants if m.status == MerchantStatus.ACTIVE]
