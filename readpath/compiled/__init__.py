"""Compiled pages (issue 18, point 1): the nodes of a root list read as rows, not models.

When everything a request selects on the nodes of `tickets`, `contacts`, `accounts` or `agents`
is covered by the specs below (columns of the node's table and the to-one relations named here,
any depth), the resolver runs as always (its filters, sort, ORG-5 scoping and pagination are
the one implementation), but the page is read with `values()` of exactly the columns the
selection needs, no model is built and no field resolver runs: each row becomes the schema
object through the type's own `from_row` (so ids, names and flags are computed as everywhere
else) and its selected leaves are serialised by their GraphQL types. The to-one relations of a
whole level are read in one statement each, with their selected columns only. Anything else
(a field with arguments, a list, a private or computed-by-resolver field) leaves the field to
the lean executor, which answers it as before.
"""

from deskql.readpath.compiled.plan import NodePlan, key_of
from deskql.readpath.compiled.reads import Page
from deskql.readpath.compiled.serialise import Compiler
from deskql.readpath.compiled.specs import NotCompiled, Row

# Root lists whose pages may be compiled (each pages a queryset through schema.connections).
ROOTS = frozenset({"tickets", "contacts", "accounts", "agents"})

__all__ = ["ROOTS", "Compiler", "NodePlan", "NotCompiled", "Page", "Row", "key_of"]
