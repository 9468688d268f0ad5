from django.urls import path
from rest_framework.routers import DefaultRouter

from delivery.api.downloads import DeliverableDownloadView, DownloadGrantViewSet, DownloadViewSet
from delivery.api.gateway import ApiKeyViewSet, GatewayCallViewSet, UpstreamViewSet
from delivery.api.views import DeliverableViewSet, UploadSessionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("deliverables", DeliverableViewSet, basename="deliverable")
router.register("upload-sessions", UploadSessionViewSet, basename="upload-session")

router.register("download-grants", DownloadGrantViewSet, basename="download-grant")
router.register("downloads", DownloadViewSet, basename="download")
router.register("upstreams", UpstreamViewSet, basename="upstream")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("gateway-calls", GatewayCallViewSet, basename="gateway-call")

urlpatterns = [
    # The signed link of a grant: the token is the only argument.
    path(
        "deliverable-downloads/<str:token>/",
        DeliverableDownloadView.as_view(),
        name="deliverable-download",
    ),
    *router.urls,
]
