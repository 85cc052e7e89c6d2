"""Search (SRC-1..4): an index kept with the data, queried with ORG-5 inside the SQL."""
