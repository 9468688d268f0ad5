from rest_framework.routers import DefaultRouter

from interchange.api.views import (
    HarvestRunViewSet,
    PartnerExchangeViewSet,
    PartnerListingViewSet,
    PartnerRecordViewSet,
    RecognitionViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.register("partner-exchanges", PartnerExchangeViewSet, basename="partner-exchange")
router.register("harvest-runs", HarvestRunViewSet, basename="harvest-run")
router.register("partner-records", PartnerRecordViewSet, basename="partner-record")
router.register("market/partner-listings", PartnerListingViewSet, basename="partner-listing")
router.register(
    "registration-recognitions", RecognitionViewSet, basename="registration-recognition"
)

urlpatterns = router.urls
