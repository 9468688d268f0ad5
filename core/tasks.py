import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task
def heartbeat_task() -> str:
    """Proves the broker, the worker and the clock are alive."""
    now = timezone.localtime().isoformat()
    logger.info("exchange heartbeat at %s", now)
    return now
