from rest_framework.routers import DefaultRouter

from accounts.api.views import MerchantViewSet

router = DefaultRouter(trailing_slash=True)
router.register("merchants", MerchantViewSet, basename="merchant")

urlpatterns = router.urls
