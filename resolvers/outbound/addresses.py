"""From-address mutations: create, update, resend the verification, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import given, mutate
from deskql.resolvers.outbound.queries import to_from_address
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id
from deskql.services import from_addresses as addresses

if TYPE_CHECKING:
    from deskql.schema.outbound import (
        FromAddressCreateInput,
        FromAddressIdInput,
        FromAddressUpdateInput,
        SmtpSettingsInput,
    )


# -- From addresses --------------------------------------------------------------------------


def _smtp(value: SmtpSettingsInput | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "host": value.host,
        "port": value.port,
        "security": value.security,
        "username": value.username,
        "password": value.password,
    }


async def from_address_create(info: strawberry.Info, input: FromAddressCreateInput) -> Any:
    """`fromAddressCreate`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        row = await addresses.create_from_address(
            actor_of(info),
            settings=info.context.settings,
            department_id=input_id(input.department_id, "Department", "departmentId"),
            email=input.email,
            display_name=input.display_name,
            smtp_settings=_smtp(input.smtp),
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


async def from_address_update(info: strawberry.Info, input: FromAddressUpdateInput) -> Any:
    """`fromAddressUpdate`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        changes = given(
            input,
            {"display_name": "display_name", "is_disabled": "is_disabled", "smtp": "smtp_settings"},
        )
        if "smtp_settings" in changes:
            changes["smtp_settings"] = _smtp(changes["smtp_settings"])
        row = await addresses.update_from_address(
            actor_of(info),
            settings=info.context.settings,
            address_id=input_id(input.id, "FromAddress", "id"),
            changes=changes,
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


async def from_address_resend_verification(info: strawberry.Info, input: FromAddressIdInput) -> Any:
    """`fromAddressResendVerification`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        row = await addresses.resend_verification(
            actor_of(info),
            settings=info.context.settings,
            address_id=input_id(input.id, "FromAddress", "id"),
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)


async def from_address_delete(info: strawberry.Info, input: FromAddressIdInput) -> Any:
    """`fromAddressDelete`."""
    from deskql.schema.outbound import FromAddressPayload

    async def run() -> dict[str, Any]:
        row = await addresses.delete_from_address(
            actor_of(info), address_id=input_id(input.id, "FromAddress", "id")
        )
        return {"from_address": to_from_address(info, row)}

    return await mutate(FromAddressPayload, run)
