from django.urls import path
from rest_framework.routers import DefaultRouter

from marketplace.api.views import OrderViewSet, PaymentNotifyView, UsageRecordViewSet

router = DefaultRouter(trailing_slash=True)
router.register("orders", OrderViewSet, basename="order")
router.register("usage-records", UsageRecordViewSet, basename="usage-record")

urlpatterns = [
    path("payments/notify/", PaymentNotifyView.as_view(), name="payment-notify"),
    *router.urls,
]
