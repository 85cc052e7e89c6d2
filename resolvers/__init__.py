"""Thin adapters between GraphQL and the services: decode input, call one service, build the
payload (DESIGN rule 1)."""
