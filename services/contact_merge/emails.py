"""A merged contact's addresses: the survivor's secondary email while that slot is free, and
aliases (models.ContactEmailAlias) so their next email lands on the survivor."""

from __future__ import annotations

from typing import Any

from deskql import models


async def remember_emails(survivor: Any, merged: list[Any], new_values: dict[str, Any]) -> list:
    """Merged contacts' addresses: the survivor's secondary email while that slot is free, and
    aliases (their next email lands on the survivor); the addresses remembered."""
    final_email = new_values.get("email", survivor.email)
    secondary = new_values.get("secondary_email", survivor.secondary_email)
    addresses: list[str] = []
    # The survivor's own email replaced by a chosen one comes first, then the merged ones.
    for address in (
        survivor.email,
        *(a for row in merged for a in (row.email, row.secondary_email)),
    ):
        if address and address != final_email and address not in addresses:
            addresses.append(address)
    if not secondary:
        for address in addresses:
            if address != final_email:
                new_values["secondary_email"] = address
                break
    taken = set(
        await models.ContactEmailAlias.filter(email__in=addresses).values_list("email", flat=True)
    )
    await models.ContactEmailAlias.bulk_create(
        [
            models.ContactEmailAlias(email=address, contact_id=survivor.id)
            for address in addresses
            if address not in taken
        ]
    )
    if final_email:
        await models.ContactEmailAlias.filter(email=final_email).delete()
    return addresses
