"""The Redis transport the workers use, made to survive the broker going away.

When Redis drops, Celery's consumer closes its channel, and kombu's Redis transport then
tries to put the messages the worker had taken but not acknowledged back on their queue.
That needs a client, which kombu can no longer build for the closed connection: it raises
AttributeError, the consumer counts it as unrecoverable, and the whole worker stops, so
recorded work waits for a person to start it again.

Here putting them back is given up with a warning instead. Nothing is lost by it: a Redis
that kept its data still holds them in its unacknowledged index and hands them out again
after the visibility timeout, and a Redis that lost its data lost them anyway; in both
cases the recovery beat jobs queue the unfinished clearing chunks, audits and harvests
again (docs/reliability.md).
"""

import logging

from kombu.transport import redis

logger = logging.getLogger(__name__)


class QoSSurvivingBrokerLoss(redis.QoS):
    def restore_unacked(self, client=None):
        try:
            super().restore_unacked(client)
        except (AttributeError, *self.channel.connection_errors) as exc:
            logger.warning(
                "Could not put %d unacknowledged message(s) back on the broker (%r); "
                "the visibility timeout and the recovery jobs bring the work back",
                len(self._delivered),
                exc,
            )
            self._delivered.clear()


class Channel(redis.Channel):
    QoS = QoSSurvivingBrokerLoss


class Transport(redis.Transport):
    Channel = Channel
