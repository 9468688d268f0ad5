from django.urls import path
from rest_framework.routers import DefaultRouter

from products.api.catalog import CatalogChangesView, DcatCatalogView, resource_view
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
    path("catalog/", DcatCatalogView.as_view(), name="catalog"),
    # The first address the catalog had; partners that stored it keep working.
    path("catalog/dcat.jsonld", DcatCatalogView.as_view(), name="catalog-dcat"),
    path("catalog/changes", CatalogChangesView.as_view(), name="catalog-changes"),
    path("catalog/datasets/<str:key>", resource_view("dataset"), name="catalog-dataset"),
    path(
        "catalog/distributions/<str:key>",
        resource_view("distribution"),
        name="catalog-distribution",
    ),
    path("catalog/services/<str:key>", resource_view("service"), name="catalog-service"),
    path("catalog/records/<str:key>", resource_view("record"), name="catalog-record"),
    path("catalog/themes/", resource_view("themes"), name="catalog-themes"),
    path("catalog/themes/<str:key>", resource_view("theme"), name="catalog-theme"),
    path("catalog/grades/", resource_view("grades"), name="catalog-grades"),
    path("catalog/grades/<str:key>", resource_view("grade"), name="catalog-grade"),
    path("catalog/series/<str:key>", resource_view("series"), name="catalog-series"),
    path("catalog/publishers/<str:key>", resource_view("publisher"), name="catalog-publisher"),
    *router.urls,
]
