"""Fixtures the workflow tests share with other folders: the outbound SMTP sink (macros that
send email) and the inbound SMTP server (replies to merged tickets)."""

from tests.channels.conftest import mailer
from tests.outbound.conftest import sink

__all__ = ["mailer", "sink"]
