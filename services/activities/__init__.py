"""Tasks, events and calls (ACT-1, ACT-2): one module per record type, their shared links
and rules in `common`, reminders (an outbox of due notifications) in `reminders`."""
