"""The help center's business rules: contacts' sign-in (access, links), their tickets
(tickets), ratings (ratings) and the help center's switches (options). The help center's
GraphQL schema (schema/help) and the agents' schema both call these."""
