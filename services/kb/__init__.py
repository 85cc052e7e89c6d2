"""The knowledge base (KB-1, KB-2, COL-1 for articles), one module per job:

- `permalinks`: slugs from titles (python-slugify), reserving them for good, resolving old ones;
- `categories`: the category tree (ORG-5: a department's, or organisation-wide);
- `articles`: create, update, publish, delete, list, read; articles take comments and
  followers through services.records;
- `public`: what readers outside the agents' API may see (the /kb pages, the help center,
  search), views and votes.

Who may do what (ORG-5): agents read and write the articles of their departments and the
categories of their departments plus the organisation-wide ones (which only administrators
change); administrators everything.
"""
