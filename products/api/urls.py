from django.urls import path
from rest_framework.routers import DefaultRouter

from products.api.catalog import DcatCatalogView
from products.api.views import (
    BoardViewSet,
    IndustryViewSet,
    MarketProductViewSet,
    PlanViewSet,
    ProductViewSet,
    ReviewViewSet,
    RevisionPlanViewSet,
    RevisionViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.register("industries", IndustryViewSet, basename="industry")
router.register("boards", BoardViewSet, basename="board")
router.register("products", ProductViewSet, basename="product")
router.register("plans", PlanViewSet, basename="plan")
router.register("market/products", MarketProductViewSet, basename="market-product")
router.register("product-reviews", ReviewViewSet, basename="product-review")
router.register("product-revisions", RevisionViewSet, basename="product-revision")
router.register("revision-plans", RevisionPlanViewSet, basename="revision-plan")

urlpatterns = [
    path("catalog/dcat.jsonld", DcatCatalogView.as_view(), name="catalog-dcat"),
    *router.urls,
]
