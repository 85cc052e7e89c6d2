"""The email channel: an SMTP server that stores raw mail and turns it into tickets.

`server` answers SMTP, `parse` reads a raw message into plain values, `detect` recognises
auto-replies, our own mail and bounces, `spam` scores messages with explainable rules. The
business rules (tickets, threads, contacts) live in services/mail_inbound.py and
services/threads.py, shared with GraphQL.
"""
