from celery import shared_task

from publicdata.services import grants_expire


@shared_task(acks_late=True)
def grants_expire_task() -> dict[str, int]:
    """Hourly: expire grants and scenario authorizations past their window, suspend products.

    Thin and safe to repeat: the service moves only rows still in force.
    """
    return grants_expire().as_dict()
