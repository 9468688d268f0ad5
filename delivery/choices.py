from django.db import models
from django.utils.translation import gettext_lazy as _


class UploadStatus(models.TextChoices):
    OPEN = "open", _("Receiving chunks")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")


# A resumable upload receives chunks while open and ends once: completed into
# a deliverable, or abandoned (by the seller, or when it expires).
UPLOAD_TRANSITIONS: dict[str, frozenset[str]] = {
    UploadStatus.OPEN: frozenset({UploadStatus.COMPLETED, UploadStatus.ABANDONED}),
    UploadStatus.COMPLETED: frozenset(),
    UploadStatus.ABANDONED: frozenset(),
}
