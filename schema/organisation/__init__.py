"""Organisation, departments, teams, agents and the own profile (ORG-1..ORG-5, PRO-1).

The parts: queries.py (OrganisationQueries, sorts, filters), inputs.py (the mutations'
inputs; Edition and Role come from schema.types, which registers them), mutations.py
(OrganisationMutations and their payloads).
"""

from deskql.schema.organisation.inputs import (
    AgentCreateInput,
    AgentDeleteInput,
    AgentUpdateInput,
    DepartmentCreateInput,
    DepartmentDeleteInput,
    DepartmentUpdateInput,
    OrganisationUpdateInput,
    ProfileUpdateInput,
    TeamCreateInput,
    TeamDeleteInput,
    TeamMembersSetInput,
    TeamUpdateInput,
)
from deskql.schema.organisation.mutations import (
    AgentPayload,
    DepartmentPayload,
    OrganisationMutations,
    OrganisationUpdatePayload,
    ProfileUpdatePayload,
    TeamPayload,
)
from deskql.schema.organisation.queries import (
    AgentFilter,
    AgentSort,
    AgentSortField,
    DepartmentFilter,
    DepartmentSort,
    DepartmentSortField,
    OrganisationQueries,
    TeamFilter,
    TeamSort,
    TeamSortField,
)

__all__ = [
    "AgentCreateInput",
    "AgentDeleteInput",
    "AgentFilter",
    "AgentPayload",
    "AgentSort",
    "AgentSortField",
    "AgentUpdateInput",
    "DepartmentCreateInput",
    "DepartmentDeleteInput",
    "DepartmentFilter",
    "DepartmentPayload",
    "DepartmentSort",
    "DepartmentSortField",
    "DepartmentUpdateInput",
    "OrganisationMutations",
    "OrganisationQueries",
    "OrganisationUpdateInput",
    "OrganisationUpdatePayload",
    "ProfileUpdateInput",
    "ProfileUpdatePayload",
    "TeamCreateInput",
    "TeamDeleteInput",
    "TeamFilter",
    "TeamMembersSetInput",
    "TeamPayload",
    "TeamSort",
    "TeamSortField",
    "TeamUpdateInput",
]
