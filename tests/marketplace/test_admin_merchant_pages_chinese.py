"""The merchant's pages read in Chinese: desk, market, product, order, listing.

The server-rendered counterpart of the browser tests' check: the page's text
(scripts, styles and form options removed) has no English interface word left
once the data the test typed (names, titles, numbers) is set aside.
"""

import re

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from tests.browser.chinese import english_words
from tests.factories.marketplace import delivered, person_of

pytestmark = pytest.mark.django_db

NOT_TEXT = re.compile(r"(?s)<(script|style|select|textarea|svg)\b.*?</\1>|<!--.*?-->")


def page_words(client, url, *, allowed) -> set[str]:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200, url
    text = strip_tags(NOT_TEXT.sub(" ", response.content.decode()))
    return english_words(text, allowed=allowed)


# Key names inside Django's own Chinese help text of multiple selects
# ("按住 Control，或者 Mac 上的 Command，可以选择多个。").
KEY_NAMES = {"Control", "Command", "Mac"}


def typed(*objects) -> set[str]:
    """What the test typed, whole (the check removes each wherever it appears)."""
    return {str(value) for value in objects if value} | KEY_NAMES


def test_a_buyers_and_a_sellers_pages_have_no_english_left(client, buyer, seller, plan):
    # given a delivered order between them
    order = delivered(buyer, plan)
    product = plan.product
    data = typed(
        buyer.legal_name,
        seller.legal_name,
        buyer.credit_code,
        seller.credit_code,
        product.title,
        product.summary,
        product.tags,
        product.sample,
        product.manual_usage_restrictions,
        *(
            getattr(product, f)
            for f in ("manual_source", "manual_fields", "manual_quality")
            if hasattr(product, f)
        ),
        order.number,
        order.delivery_note,
        *order.payment_notifications.values_list("channel_reference", flat=True),
        product.industry,
        person_of(buyer).username,
        person_of(seller).username,
        plan.name,
        product.registration_number or "",
    ) | {"rsaquo", "lsaquo"}
    from products.models import MANUAL_SECTIONS

    data |= typed(*(getattr(product, f) for f in MANUAL_SECTIONS))
    pages = {
        "desk": reverse("admin:index"),
        "market": reverse("admin:market"),
        "market product": reverse("admin:market_product", args=[product.pk]),
        "order": reverse("admin:marketplace_order_change", args=[order.pk]),
        "orders": reverse("admin:marketplace_order_changelist"),
    }
    for who in (buyer, seller):
        client.force_login(person_of(who))
        for name, url in pages.items():
            # when each page is read in Chinese
            words = page_words(client, url, allowed=data)
            # then nothing but data is in Latin letters
            assert not words, f"{name} ({url}) shows English: {sorted(words)}"
