"""Compiled pages (issue 18, point 1): the nodes of a list read as rows, not models.

Which lists: the root lists `tickets`, `contacts`, `accounts` and `agents` (ROOTS); the pages
of `me.notifications` and of a contact's or an account's comments and activities (NESTED: their
resolvers page a queryset, as the roots' do); a ticket's threads, comments and activities
(specs' `children`: one statement for the whole level, on the loader's own query, paged by the
resolver); and the objects of the compiled types that `node`/`nodes` give (NODE_ROOTS).

When everything a request selects on the nodes of such a list is covered by the specs
(specs.py: columns of the node's table, the to-one relations named there at any depth, the
lists a request's loader gives), the resolver runs as always (its
filters, sort, ORG-5 scoping and pagination are the one implementation), but the page is read
with exactly the columns the selection needs, and no model is built and no field resolver runs:
- plan.py plans each selection once per document: leaves, `__typename`, relations (joined into
  the page's statement, JOIN_DEPTH levels), loaded lists, and fields left to the lean executor;
- reads.py reads the page: Tortoise builds only the request's own part of the statement
  (filters, sort, slice) on the sort's columns, and the columns and joins rendered once per
  plan and sort (reads.Static) are spliced in; generated functions make the Rows;
- emit.py writes the response objects with one generated function per plan, in the same order
  and with the same checks as the serializers;
- on PostgreSQL, sqljson.py has the database write each node's JSON in the same statement when
  it can write everything the plan writes (the response carries it as it comes);
- serialise.py drives it, a level at a time for relations read by id.
Anything else (a field with arguments, a private or computed-by-resolver field) is left to the
lean executor, which answers it as before.
"""

from deskql.readpath.compiled.plan import NodePlan, key_of
from deskql.readpath.compiled.reads import Page
from deskql.readpath.compiled.serialise import Compiler
from deskql.readpath.compiled.specs import NotCompiled, Row

# Root lists whose pages may be compiled (each pages a queryset through schema.connections).
ROOTS = frozenset({"tickets", "contacts", "accounts", "agents"})
# Fields of other types whose pages may be compiled, as a root list's (type, field).
NESTED = frozenset(
    {
        ("Agent", "notifications"),
        ("Contact", "activities"),
        ("Contact", "comments"),
        ("Account", "activities"),
        ("Account", "comments"),
    }
)
# Root fields reading objects by global id: those of the compiled types are rows (Nodes).
NODE_ROOTS = frozenset({"node", "nodes"})

__all__ = [
    "NESTED",
    "NODE_ROOTS",
    "ROOTS",
    "Compiler",
    "NodePlan",
    "NotCompiled",
    "Page",
    "Row",
    "key_of",
]
