"""The organisation, departments, teams and agents (ORG-1..ORG-5, PRO-1).

Reads are scoped by services.policies (ORG-5). Every change is for administrators only, except
`update_profile`, which any agent uses on their own profile (ORG-3: PRO-1).

The parts: common.py (limits, checks and helpers the others share), org.py (the
organisation's own row), departments.py, teams.py, agents.py (one kind of record each),
profile.py (an agent's own profile). Constants are read where they are defined: patch them
there, not on this package.
"""

from deskql.services.organisation.agents import (
    create_agent,
    delete_agent,
    get_agent,
    list_agents,
    update_agent,
)
from deskql.services.organisation.common import (
    DESCRIPTION_MAX,
    HIDDEN,
    HOBBIES_MAX,
    MAX_HOURLY_RATE_CENTS,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    PERSON_NAME_MAX,
    SORTS,
    UNCHANGED,
    check_password,
    check_rate,
)
from deskql.services.organisation.departments import (
    create_department,
    delete_department,
    get_department,
    list_departments,
    update_department,
)
from deskql.services.organisation.org import ensure_organisation, update_organisation
from deskql.services.organisation.profile import PASSWORD_CHANGE, update_profile
from deskql.services.organisation.teams import (
    create_team,
    delete_team,
    get_team,
    list_teams,
    set_team_members,
    update_team,
)

__all__ = [
    "DESCRIPTION_MAX",
    "HIDDEN",
    "HOBBIES_MAX",
    "MAX_HOURLY_RATE_CENTS",
    "NAME_MAX",
    "PASSWORD_CHANGE",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "PERSON_NAME_MAX",
    "SORTS",
    "UNCHANGED",
    "check_password",
    "check_rate",
    "create_agent",
    "create_department",
    "create_team",
    "delete_agent",
    "delete_department",
    "delete_team",
    "ensure_organisation",
    "get_agent",
    "get_department",
    "get_team",
    "list_agents",
    "list_departments",
    "list_teams",
    "set_team_members",
    "update_agent",
    "update_department",
    "update_organisation",
    "update_profile",
    "update_team",
]
