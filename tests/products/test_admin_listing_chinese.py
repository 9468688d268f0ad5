"""The listing pages read in Chinese: a returned product, a listed one, its new version."""

import pytest
from django.urls import reverse

from products import services
from tests.factories.products import ALL_TICKED
from tests.marketplace.test_admin_merchant_pages_chinese import page_words, typed

pytestmark = pytest.mark.django_db


def test_the_listing_pages_have_no_english_left(client, owner_a, operator, make_draft):
    # given a product sent back by the reviewers, and a listed one with a new version
    product = services.product_submit(actor=owner_a, product=make_draft(owner_a))
    product = services.product_start_review(actor=operator, product=product)
    services.product_reject(
        actor=operator,
        product=product,
        comments="缺少使用限制",
        compliance_checklist=ALL_TICKED["compliance_checklist"],
        quality_checklist={},
    )
    listed = services.product_submit(actor=owner_a, product=make_draft(owner_a, title="地面观测"))
    listed = services.product_start_review(actor=operator, product=listed)
    listed = services.product_approve(
        actor=operator, product=listed, **{k: v for k, v in ALL_TICKED.items()}
    )
    revision = services.revision_open(actor=owner_a, product=listed, change_note="新增数据")
    from products.models import MANUAL_SECTIONS

    data = typed(
        owner_a.username,
        operator.username,
        owner_a.merchant.legal_name,
        listed.registration_number,
        *(getattr(product, f) for f in (*MANUAL_SECTIONS, "title", "summary", "tags", "sample")),
        product.industry,
    ) | {"rsaquo", "lsaquo"}
    client.force_login(owner_a)
    for url in (
        reverse("admin:products_product_change", args=[product.pk]),
        reverse("admin:products_product_change", args=[listed.pk]),
        reverse("admin:products_productrevision_change", args=[revision.pk]),
        reverse("admin:products_product_changelist"),
    ):
        words = page_words(client, url, allowed=data)
        assert not words, f"{url} shows English: {sorted(words)}"
