"""The agent's notifications stream: replayed after an id, then live, each delivered with its
activity, ticket and unread count while the agent may still see what it is about."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from deskql.realtime import batch, envelopes, topics
from deskql.realtime.hub import Hub
from deskql.realtime.streams.actors import reload_actor
from deskql.realtime.streams.common import _each, _next_batch, _Seen, _watch
from deskql.services import notifications as notes
from deskql.services.auth import Actor
from deskql.services.policies import can_see_department, can_view_ticket

REPLAY_LIMIT = 1000


async def notification_stream(
    hub: Hub,
    *,
    token: str,
    after_id: int | None,
    on_drop: Callable[[], Any] | None = None,
) -> AsyncIterator[tuple[Actor, batch.Delivery]]:
    """The agent's notifications newer than `after_id` (replayed), then live ones, each with
    its activity, ticket and the agent's unread count (`batch.Delivery`)."""
    actor = await reload_actor(token)
    async with hub.subscribe(topics.agent(actor.agent_id)) as sub:
        _watch(sub, on_drop)
        seen = _Seen()
        if after_id is not None:
            seen.max_id = after_id
            pks = await notes.notification_ids_after(actor, after_id=after_id, limit=REPLAY_LIMIT)
            for delivery in await _deliveries(pks, actor):
                actor = await reload_actor(token)
                if delivery is not None and _may_see(actor, delivery):
                    seen.add(delivery.row.id)
                    yield actor, delivery
        else:
            # Live only: start after the newest notification that exists now.
            newest = await notes.list_notifications(actor).first()
            seen.max_id = newest.id if newest else 0
        while True:
            messages = await _next_batch(sub)
            actor = await reload_actor(token)
            wanted: set[int] = set()
            catch_up = False
            for message in messages:
                if message.get("type") == envelopes.RESYNC:
                    catch_up = True
                elif message.get("type") == envelopes.NOTIFICATION:
                    pk = message.get("id")
                    if isinstance(pk, int) and pk not in seen.recent_set:
                        wanted.add(pk)
            if catch_up:
                wanted.update(
                    await notes.notification_ids_after(
                        actor, after_id=seen.max_id, limit=REPLAY_LIMIT
                    )
                )
            # Rows named by envelopes (also ids below max_id, committed late), the agent's only.
            for delivery in await _deliveries(sorted(wanted - seen.recent_set), actor):
                if delivery is None or delivery.row.id in seen.recent_set:
                    continue
                seen.add(delivery.row.id)
                if _may_see(actor, delivery):
                    yield actor, delivery
            seen.prune()


async def _deliveries(pks: list[int], actor: Actor) -> list[batch.Delivery | None]:
    return await _each(lambda pk: batch.delivery(pk, actor), pks)


def _may_see(actor: Actor, delivery: batch.Delivery) -> bool:
    """Whether the agent may still see the record a notification is about."""
    if delivery.row.ticket_id is None:
        return True
    if delivery.ticket is not None:
        return can_view_ticket(actor, delivery.ticket)
    # The ticket was deleted: the department it was in when the activity was written.
    activity = delivery.activity
    return activity is not None and can_see_department(actor, activity.department_id)  # type: ignore[attr-defined]
