import random

import pytest

from accounts import demo as accounts_demo
from core.demo import DemoContext
from products import demo
from products.models import Board, Industry, Product, ProductReview, ProductRevision
from publicdata import demo as publicdata_demo

pytestmark = pytest.mark.django_db


def test_demo_seeds_industries_boards_and_products_in_every_status():
    # given merchants and public-data grants from the earlier seeders
    context = DemoContext(rng=random.Random(7), merchants=8, write=lambda *_: None)
    accounts_demo.seed(context)
    publicdata_demo.seed(context)
    # when the products demo runs
    demo.seed(context)
    # then the ten industries exist and the weather board runs with the weather bureau
    assert Industry.objects.count() >= 10
    assert Board.objects.get(code="weather").department == context.made["weather_department"]
    statuses = set(Product.objects.values_list("status", flat=True))
    assert statuses >= {"draft", "submitted", "in_review", "listed", "suspended", "delisted"}
    assert Product.objects.count() >= 36
    assert Product.objects.filter(source_kind="public", status="listed").exists()
    assert ProductReview.objects.filter(verdict="rejected").exists()
    assert ProductReview.objects.filter(required_approvals=2, verdict="approved").exists()
    assert ProductRevision.objects.filter(status="in_review").exists()
    assert not Product.objects.filter(grade="core").exclude(status="draft").exists()
    assert context.made["products"]
    assert all(p.status == "listed" for p in context.made["products"])
