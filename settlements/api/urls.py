from django.urls import path
from rest_framework.routers import DefaultRouter

from settlements.api.views import (
    ClearingBatchViewSet,
    DataAssetRecordView,
    DepartmentStatementView,
    FeeScheduleViewSet,
    LedgerAccountViewSet,
    PayoutViewSet,
    ProductCostLineViewSet,
    StatementView,
)

router = DefaultRouter(trailing_slash=True)
router.register("fee-schedules", FeeScheduleViewSet, basename="fee-schedule")
router.register("clearing-batches", ClearingBatchViewSet, basename="clearing-batch")
router.register("payouts", PayoutViewSet, basename="payout")
router.register("ledger-accounts", LedgerAccountViewSet, basename="ledger-account")
router.register("product-cost-lines", ProductCostLineViewSet, basename="product-cost-line")

urlpatterns = [
    path("statements/", StatementView.as_view(), name="statement"),
    path("department-statements/", DepartmentStatementView.as_view(), name="department-statement"),
    path("data-asset-records/", DataAssetRecordView.as_view(), name="data-asset-record"),
    *router.urls,
]
