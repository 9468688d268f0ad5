"""Thin Celery entry points; the work is in interchange.services."""

from celery import shared_task

from interchange import services
from interchange.models import PartnerExchange


@shared_task
def partners_harvest_due_task() -> list[int]:
    """Beat: harvest each active partner whose interval has passed; returns the run ids."""
    return services.partners_harvest_due()


@shared_task
def partner_harvest_task(partner_id: int, full: bool = False) -> int:
    """Harvest one partner now (an operator asked); returns the run id."""
    partner = PartnerExchange.objects.get(pk=partner_id)
    return services.partner_harvest(actor=None, partner=partner, full=full).pk


@shared_task
def harvest_runs_recover_task() -> dict:
    """Beat: resume the harvest runs a lost worker left running; returns their ids."""
    return services.harvest_runs_recover()


@shared_task
def harvest_run_resume_task(run_id: int, attempt: int) -> int | None:
    """Resume one harvest run from the attempt the recovery saw; None if it moved on."""
    run = services.harvest_run_resume(run_id=run_id, attempt=attempt)
    return None if run is None else run.pk
