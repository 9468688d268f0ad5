from rest_framework.routers import DefaultRouter

from publicdata.api.views import (
    CatalogEntryViewSet,
    DepartmentViewSet,
    GrantViewSet,
    ScenarioViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.register("departments", DepartmentViewSet, basename="department")
router.register("catalog-entries", CatalogEntryViewSet, basename="catalog-entry")
router.register("grants", GrantViewSet, basename="grant")
router.register("scenarios", ScenarioViewSet, basename="scenario")

urlpatterns = router.urls
