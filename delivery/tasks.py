"""Scheduled delivery jobs. Thin: each calls one service, idempotent by its data."""

from celery import shared_task

from delivery.services.uploads import upload_sessions_expire


@shared_task(acks_late=True)
def upload_sessions_expire_task() -> str:
    """Abandon expired resumable uploads and delete their chunks (status re-checked per row)."""
    return f"{upload_sessions_expire()} upload(s) expired"
