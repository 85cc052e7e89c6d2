"""DeskQL: an open-source help desk server with one typed GraphQL API (the `deskql` package).

The repository root is this package (pyproject.toml maps it), so `deskql.schema`,
`deskql.models`, `deskql.server` and the rest are the folders and modules beside this file.
"""
