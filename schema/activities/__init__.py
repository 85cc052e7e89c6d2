"""Tasks, events and calls (ACT-1, ACT-2): types, inputs and the Query/Mutation fields."""
