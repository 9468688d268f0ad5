from rest_framework.routers import DefaultRouter

from accounts.api.views import MerchantViewSet, PersonViewSet

router = DefaultRouter(trailing_slash=True)
router.register("merchants", MerchantViewSet, basename="merchant")
router.register("people", PersonViewSet, basename="person")

urlpatterns = router.urls
