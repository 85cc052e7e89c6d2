"""Helpers of the activity tests: tickets in a department, actors, the GraphQL snippets."""

from __future__ import annotations

from deskql import models
from tests.conftest import World

ERR = "errors { field message code }"
TASK = (
    "task { id subject description dueAt priority status isCompleted isOverdue reminderAt "
    "owner { email } department { name } ticket { id } contact { id } account { id } }"
)
EVENT = (
    "event { id title startsAt endsAt location reminderAt owner { email } "
    "attendees { email } department { name } ticket { id } contact { id } }"
)
CALL = (
    "call { id direction number status outcome durationSeconds agent { email } notes "
    "recordingUrl providerCallId department { name } ticket { id } contact { id } account { id } }"
)


async def ticket_in(
    dept: models.Department, world: World, *, contact: models.Contact | None = None
) -> models.Ticket:
    """A ticket of a department, for the world's contact (or the given one)."""
    from deskql.services import tickets
    from deskql.services.auth import load_actor

    return await tickets.create_ticket(
        await load_actor(world.admin.id),
        subject="Call me back",
        department_id=dept.id,
        contact_id=(contact or world.contact).id,
    )


async def actor(agent: models.Agent):  # type: ignore[no-untyped-def]
    """The service-level actor of an agent."""
    from deskql.services.auth import load_actor

    return await load_actor(agent.id)
