from rest_framework.routers import DefaultRouter

from delivery.api.views import DeliverableViewSet, UploadSessionViewSet

router = DefaultRouter(trailing_slash=True)
router.register("deliverables", DeliverableViewSet, basename="deliverable")
router.register("upload-sessions", UploadSessionViewSet, basename="upload-session")

urlpatterns = [*router.urls]
