"""A late acknowledgement sent through a channel the broker has dropped is logged, not
raised: raised, it would kill the worker's event loop and leave recorded work waiting."""

import logging
import uuid

import kombu
import pytest
from django.conf import settings
from kombu.transport import redis as kombu_redis

from config.broker import QoSSurvivingBrokerLoss, Transport
from config.celery_app import ExchangeTask, RequestSurvivingBrokerLoss, app

pytestmark = [pytest.mark.redis]


def _two_messages_received(connection: kombu.Connection, channel) -> list[kombu.Message]:
    queue = kombu.Queue(f"ack-loss-{uuid.uuid4().hex[:8]}", routing_key="ack-loss")
    producer = kombu.Producer(channel)
    for n in range(2):
        task_id = str(uuid.uuid4())
        producer.publish(
            [[n], {}, {}],  # Celery's message protocol 2: args, kwargs, embed
            routing_key=queue.name,
            declare=[queue],
            headers={"id": task_id, "task": "tests.ack_loss"},
        )
    received: list[kombu.Message] = []
    with kombu.Consumer(channel, queues=[queue], callbacks=[lambda _b, m: received.append(m)]):
        for _ in range(20):
            if len(received) == 2:
                break
            connection.drain_events(timeout=1)
    assert len(received) == 2
    return received


def _broker_drops(channel) -> None:
    """What kombu's Redis transport is left with after the server went away mid-task."""
    channel.qos.restore_at_shutdown = False  # nothing to restore into a server that is gone
    channel._disconnect_pools()
    channel.connection.client = None


def test_late_ack_after_broker_loss_is_logged_where_plain_kombu_raises(own_redis, caplog):
    logger = logging.getLogger("tests.ack_loss")

    @app.task(name="tests.ack_loss", base=ExchangeTask, shared=False)
    def ack_loss_task():
        return None

    assert ack_loss_task.Request is RequestSurvivingBrokerLoss
    with kombu.Connection(own_redis.url) as connection:
        channel = connection.channel()
        plain, ours = _two_messages_received(connection, channel)
        _broker_drops(channel)

        # kombu alone: the error is not one of its connection errors, so it escapes
        with pytest.raises(AttributeError):
            plain.ack_log_error(logger, connection.connection_errors)

        request = RequestSurvivingBrokerLoss(
            ours,
            on_ack=ours.ack_log_error,
            app=app,
            task=ack_loss_task,
            connection_errors=connection.connection_errors,
            body=ours.body,
            headers=ours.headers,
            decoded=False,
        )
        with caplog.at_level(logging.CRITICAL):
            request.acknowledge()  # must not raise
    assert "Couldn't ack" in caplog.text


def test_messages_left_unacknowledged_when_the_broker_drops_do_not_stop_the_worker(own_redis):
    # the worker's transport is ours whenever Redis is the broker
    assert settings.CELERY_BROKER_TRANSPORT == "config.broker:Transport"
    with kombu.Connection(own_redis.url, transport=Transport) as connection:
        channel = connection.channel()
        assert isinstance(channel.qos, QoSSurvivingBrokerLoss)
        _two_messages_received(connection, channel)
        _broker_drops(channel)

        # kombu alone: putting the taken messages back raises, and Celery stops the worker
        with pytest.raises(AttributeError):
            kombu_redis.QoS.restore_unacked(channel.qos)

        # ours: given up with a warning, nothing raised, nothing left to put back
        channel.qos._delivered.update({"a": object(), "b": object()})
        channel.qos.restore_unacked()
        assert not channel.qos._delivered
