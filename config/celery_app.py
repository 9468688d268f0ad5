import os

from celery import Celery, Task
from celery.worker.request import Request

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


class RequestSurvivingBrokerLoss(Request):
    """A task request whose late acknowledgement survives the broker going away.

    Tasks acknowledge late (after they ran). When Redis drops while a task runs, kombu's
    Redis transport forgets its connection details, and the acknowledgement then fails
    with AttributeError inside kombu while it rebuilds a client. kombu logs and drops a
    failed ack only for the errors listed as connection errors; anything else is raised
    in the worker's event loop and kills the worker, so recorded work waits for a
    person to restart it. Counting that AttributeError as a connection error makes the
    ack a logged loss: the message is gone with the broker anyway, and the recovery beat
    job queues the unfinished work again (tasks are idempotent).
    """

    def __init__(self, *args, connection_errors=None, **kwargs):
        survivable = (*(connection_errors or ()), AttributeError)
        super().__init__(*args, connection_errors=survivable, **kwargs)


class ExchangeTask(Task):
    Request = RequestSurvivingBrokerLoss


app = Celery("exchange", task_cls=ExchangeTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
