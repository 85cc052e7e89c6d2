"""Organisation, departments, agents, teams and access tokens (ORG-1..ORG-5, PRO-1)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from deskql.models.enums import Edition, Role, TokenKind


class Organisation(Model):
    """The single organisation of a deployment (ORG-1)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    slug = fields.CharField(max_length=63, unique=True)
    edition = fields.CharEnumField(Edition, max_length=16, default=Edition.ENTERPRISE)
    # Counter behind ticket numbers; incremented with a row lock (see services.tickets).
    ticket_seq = fields.IntField(default=0)
    # TIM-2: the rate of time entries by agents without their own, in cents per hour.
    default_hourly_rate_cents = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organisation"


class Department(Model):
    """A department (ORG-2), tickets, teams and macros belong to one."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120, unique=True)
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "department"
        ordering = ["id"]


class Agent(Model):
    """A help desk agent with a public profile (ORG-3, PRO-1)."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100)
    role = fields.CharEnumField(Role, max_length=16, default=Role.AGENT)
    is_active = fields.BooleanField(default=True)
    password_hash = fields.CharField(max_length=255, null=True)
    avatar_url = fields.CharField(max_length=500, default="")
    about = fields.TextField(default="")
    hobbies = fields.CharField(max_length=500, default="")
    # AUT-1: an agent granted this may create, change and delete macros (administrators may).
    can_manage_macros = fields.BooleanField(default=False, db_default=False)
    # TIM-2: cents per hour; null means the organisation's default rate.
    hourly_rate_cents = fields.IntField(null=True)
    # ACT-2: the agent's PBX extension (rung first by click-to-dial) and direct number (E.164).
    extension = fields.CharField(max_length=20, default="", db_default="")
    phone_number = fields.CharField(max_length=32, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agent"
        ordering = ["id"]

    @property
    def name(self) -> str:
        """Full display name."""
        return f"{self.first_name} {self.last_name}".strip()


class DepartmentMembership(Model):
    """An agent membership of a department."""

    id = fields.IntField(primary_key=True)
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="memberships", on_delete=fields.CASCADE
    )
    department = fields.ForeignKeyField(
        "models.Department", related_name="memberships", on_delete=fields.CASCADE
    )

    class Meta:
        table = "department_membership"
        unique_together = (("agent", "department"),)


class Team(Model):
    """A named group of agents within one department (ORG-4)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    department = fields.ForeignKeyField(
        "models.Department", related_name="teams", on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "team"
        unique_together = (("department", "name"),)
        ordering = ["id"]


class TeamMembership(Model):
    """An agent membership of a team."""

    id = fields.IntField(primary_key=True)
    team = fields.ForeignKeyField(
        "models.Team", related_name="memberships", on_delete=fields.CASCADE
    )
    agent = fields.ForeignKeyField(
        "models.Agent", related_name="team_memberships", on_delete=fields.CASCADE
    )

    class Meta:
        table = "team_membership"
        unique_together = (("team", "agent"),)


class ApiToken(Model):
    """A bearer token, stored as its sha256 only, revocable."""

    id = fields.IntField(primary_key=True)
    agent = fields.ForeignKeyField("models.Agent", related_name="tokens", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(TokenKind, max_length=16)
    name = fields.CharField(max_length=120, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="issued_tokens", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "api_token"
