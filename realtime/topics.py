"""Channel names on the broadcast backend: one per agent, ticket and department."""

from __future__ import annotations


def agent(agent_id: int) -> str:
    """Notifications for one agent."""
    return f"deskql.agent.{agent_id}"


def ticket(ticket_id: int) -> str:
    """Activity on one ticket."""
    return f"deskql.ticket.{ticket_id}"


def department(department_id: int) -> str:
    """Ticket activity in one department (for dashboards)."""
    return f"deskql.department.{department_id}"
