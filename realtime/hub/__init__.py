"""The per-process hub between broadcaster and the subscriptions of this process.

broadcaster 0.3.1 is treated as a thin transport (STACK_NOTES): its queues are unbounded, two
first subscribers to a channel at once can lose messages, and a Redis restart kills its listener
without a word. So the hub:

- holds ONE backend subscription per channel per process, however many local subscribers it
  has, reference-counted: the backend subscription is released when the last one leaves;
- fans each message out to bounded per-subscriber queues; a subscriber whose queue is full is
  dropped (its `on_drop` callback closes the WebSocket with 4008 "slow consumer") instead of
  letting memory grow;
- can prepare each message of a channel once for all its local subscribers (`prepare`, e.g.
  read the rows it names), before they wake, so a thousand subscribers do not each wait for
  the same read; a prepare that takes over PREPARE_TIMEOUT is given up (the message goes out
  bare), so a stalled database cannot pile messages up in the backend's unbounded queue; a
  prepared message goes through realtime/direct.py, which serves the idle subscribers it can
  without waking them and queues it for the others;
- watches the backend with a heartbeat on a private channel and the transport's own listener
  tasks, and after a failure reconnects with exponential backoff, re-subscribes every channel
  and tells each subscriber to RESYNC (re-read the tables for what it may have missed);
- carries the process's own internal channels (`listen`, e.g. the token cache's
  invalidations): a callback per channel, held for the hub's whole life, never counted as a
  subscription; `on_reconnect` callbacks learn that messages may have been missed.

The parts: subscription.py (a subscriber's bounded queue), base.py (the Hub's state),
channels.py (subscribing, fan-out, `prepare`), internal.py (`listen`, `on_reconnect`),
reconnect.py (heartbeat, backoff, RESYNC), core.py (the Hub: its parts joined, start, stop).
Tunables (PREPARE_TIMEOUT) are read where they are defined: patch them there
(deskql.realtime.hub.channels), not on this package.
"""

from deskql.realtime.hub.base import Prepare
from deskql.realtime.hub.channels import PREPARED
from deskql.realtime.hub.core import Hub
from deskql.realtime.hub.subscription import (
    DEFAULT_QUEUE_SIZE,
    SLOW_CONSUMER_CODE,
    SLOW_CONSUMER_REASON,
    LocalSubscription,
    SlowConsumer,
)

__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "PREPARED",
    "SLOW_CONSUMER_CODE",
    "SLOW_CONSUMER_REASON",
    "Hub",
    "LocalSubscription",
    "Prepare",
    "SlowConsumer",
]
