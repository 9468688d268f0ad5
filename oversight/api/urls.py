from rest_framework.routers import DefaultRouter

from oversight.api.views import (
    AuditFindingViewSet,
    AuditRunViewSet,
    ChainSealViewSet,
    PublicDataDisclosureViewSet,
    StatsViewSet,
    TradeCertificateViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.register("audit-runs", AuditRunViewSet, basename="audit-run")
router.register("audit-findings", AuditFindingViewSet, basename="audit-finding")
router.register("chain-seals", ChainSealViewSet, basename="chain-seal")
router.register("trade-certificates", TradeCertificateViewSet, basename="trade-certificate")
router.register("stats", StatsViewSet, basename="stats")
router.register(
    "disclosures/public-data", PublicDataDisclosureViewSet, basename="public-data-disclosure"
)

urlpatterns = router.urls
