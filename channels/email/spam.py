"""Spam scoring (TIC-7) by explainable rules: each rule that fires adds points and a reason.

A message whose score reaches THRESHOLD is spam. The rules: an upstream filter's verdict
(X-Spam-Flag / X-Spam-Status), the blocklist (an address or a whole @domain), and a few
content rules. The reasons are stored on the inbound message so an administrator can see
why a ticket landed in the spam view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deskql.channels.email.parse import ParsedMail

THRESHOLD = 5.0
_PHRASES = (
    "you have won",
    "claim your prize",
    "lottery",
    "viagra",
    "cialis",
    "crypto investment",
    "bitcoin investment",
    "wire transfer fee",
    "100% free",
    "act now",
    "limited time offer",
    "click here to unsubscribe",
    "nigerian prince",
)
_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass
class SpamResult:
    """The score and the reason of every rule that fired."""

    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    @property
    def is_spam(self) -> bool:
        """Whether the score reaches the threshold."""
        return self.score >= THRESHOLD

    def add(self, points: float, reason: str) -> None:
        """Record one rule that fired."""
        self.score += points
        self.reasons.append(f"{reason} (+{points:g})")

    def explain(self) -> str:
        """One line for the inbound message's reason."""
        verdict = "spam" if self.is_spam else "not spam"
        rules = "; ".join(self.reasons) or "no rule fired"
        return f"{verdict}: score {self.score:g} (threshold {THRESHOLD:g}): {rules}"


def blocklist_match(email: str, patterns: set[str]) -> str | None:
    """The blocklist pattern (address or @domain) that matches the sender, if any."""
    email = email.lower()
    if email in patterns:
        return email
    domain = "@" + email.rpartition("@")[2]
    return domain if domain in patterns else None


def score(mail: ParsedMail, *, sender: str, blocked: set[str]) -> SpamResult:
    """Score a parsed message; `blocked` holds the blocklist patterns (lower case)."""
    result = SpamResult()
    flag = mail.headers.get("x-spam-flag", "").strip().lower()
    if flag == "yes":
        result.add(10, "upstream filter: X-Spam-Flag: YES")
    status = mail.headers.get("x-spam-status", "").strip().lower()
    if status.startswith("yes") and flag != "yes":
        result.add(10, "upstream filter: X-Spam-Status: Yes")
    hit = blocklist_match(sender, blocked) if sender else None
    if hit:
        result.add(100, f"sender {sender} is blocklisted ({hit})")
    subject = mail.subject
    letters = [c for c in subject if c.isalpha()]
    if len(letters) >= 12 and all(c.isupper() for c in letters):
        result.add(1.5, "subject in capitals")
    if subject.count("!") >= 3 or subject.count("$") >= 3:
        result.add(1.5, "subject full of ! or $")
    body = f"{subject}\n{mail.text}".lower()
    phrases = [p for p in _PHRASES if p in body]
    if phrases:
        result.add(2.0 * min(len(phrases), 3), "spam phrases: " + ", ".join(phrases[:3]))
    if mail.html and not mail.text.strip():
        result.add(0.5, "HTML only, no text")
    links = len(_URL.findall(mail.html or mail.text))
    if links > 15:
        result.add(1.5, f"{links} links")
    if not mail.message_id:
        result.add(1.0, "no Message-ID")
    name = mail.sender.name if mail.sender else ""
    if "@" in name and sender and sender not in name.lower():
        result.add(2.0, "display name shows another address than the sender's")
    return result
