"""Celery tasks: thin wrappers over the clearing services, idempotent by their data."""

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError

from core.exceptions import Conflict
from settlements.services.clearing import (
    clearing_batch_finalize,
    clearing_chunk_run,
    clearing_recover,
    clearing_run_for_day,
    previous_business_day,
)

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def clearing_run_for_day_task(business_date: str | None = None) -> dict:
    """Clear a business day (ISO date; default: yesterday in Asia/Shanghai) through chunk tasks.

    Beat sends it at 01:00. Re-sending it resumes or re-runs the day; a day
    already confirmed is left alone.
    """
    day = dt.date.fromisoformat(business_date) if business_date else previous_business_day()
    try:
        batch = clearing_run_for_day(business_date=day, dispatch="celery")
    except Conflict as exc:
        logger.info("clearing of %s not run: %s", day, exc.message)
        return {"business_date": day.isoformat(), "skipped": exc.message}
    return {
        "business_date": day.isoformat(),
        "batch": batch.pk,
        "status": batch.status,
        "chunks": batch.chunks.count(),
    }


# A deadlock or serialisation failure rolls the chunk back whole; retrying is safe.
@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=8,
)
def clearing_chunk_run_task(chunk_id: int) -> dict:
    """Clear one chunk, then finalize the batch if it was the last one pending."""
    summary = clearing_chunk_run(chunk_id=chunk_id)
    from settlements.models import ClearingChunk

    batch_id = ClearingChunk.objects.values_list("batch_id", flat=True).get(pk=chunk_id)
    summary["finalized"] = clearing_batch_finalize(batch_id=batch_id)
    return summary


@shared_task(acks_late=True)
def clearing_batch_finalize_task(batch_id: int) -> bool:
    return clearing_batch_finalize(batch_id=batch_id)


@shared_task(acks_late=True)
def clearing_recover_task() -> dict:
    """Beat: queue again the chunks and days a killed worker or lost message left undone."""
    return clearing_recover()
