"""The help center's own GraphQL schema, served at /help/graphql to contacts (DESIGN: two
audiences, two schemas). Its types are its own: none reuses an agent type, so there is no
private field to forget to hide. Its SDL is committed as help.graphql."""

import strawberry

from deskql.models.helpcenter import RatingValue

# Shared by both schemas (Ticket.rating on the agents' side): registered once, here.
strawberry.enum(RatingValue, description="How the answer to a closed ticket was rated.")
