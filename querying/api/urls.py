from rest_framework.routers import DefaultRouter

from querying.api.views import (
    DatasetViewSet,
    PrivacyBudgetViewSet,
    QueryRunViewSet,
    QueryTemplateViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.register("query-datasets", DatasetViewSet, basename="query-dataset")
router.register("query-templates", QueryTemplateViewSet, basename="query-template")
router.register("query-runs", QueryRunViewSet, basename="query-run")
router.register("privacy-budgets", PrivacyBudgetViewSet, basename="privacy-budget")

urlpatterns = router.urls
