"""CRM link resolvers (CUS-6): decode ids, call services.crm, build payloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from deskql import models
from deskql.resolvers.common import mutate
from deskql.resolvers.customer_overview import _loader
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id
from deskql.schema.types import Account, Contact
from deskql.services import crm as svc

_TYPES = {"contact": ("Contact", "contactId"), "account": ("Account", "accountId")}


def _record(link: models.CrmLink) -> Any:
    from deskql.schema.crm import CrmField, CrmRecord

    return CrmRecord(
        id=link.external_id,
        url=link.url,
        fields=[
            CrmField(name=name, value=None if value is None else str(value))
            for name, value in (link.fields_json or {}).items()
        ],
        updated_at=link.remote_updated_at,
        fetched_at=link.fetched_at,
    )


async def record(info: strawberry.Info, *, kind: str, pk: int) -> Any:
    """`Contact.crm` / `Account.crm`: the links of a page in one statement."""

    def build() -> DataLoader[int, Any]:
        async def load(keys: Sequence[int]) -> list[Any]:
            found = await svc.links(kind=kind, ids=list(keys))
            return [_record(found[k]) if k in found else None for k in keys]

        return DataLoader(load_fn=load)

    return await _loader(info, f"crm:{kind}", build).load(pk)


async def _payload(kind: str, run: Any) -> Any:
    from deskql.schema.crm import AccountCrmPayload, ContactCrmPayload

    return await mutate(ContactCrmPayload if kind == "contact" else AccountCrmPayload, run)


async def _result(kind: str, pk: int) -> dict[str, Any]:
    if kind == "contact":
        return {"contact": Contact.from_row(await models.Contact.get(id=pk))}
    return {"account": Account.from_row(await models.Account.get(id=pk))}


async def link(info: strawberry.Info, *, kind: str, global_id: str, crm_id: str) -> Any:
    """`contactCrmLink` / `accountCrmLink`."""

    async def run() -> dict[str, Any]:
        pk = input_id(global_id, *_TYPES[kind])
        await svc.link(actor_of(info), info.context.settings, kind=kind, pk=pk, external_id=crm_id)
        return await _result(kind, pk)

    return await _payload(kind, run)


async def refresh(info: strawberry.Info, *, kind: str, global_id: str) -> Any:
    """`contactCrmRefresh` / `accountCrmRefresh`."""

    async def run() -> dict[str, Any]:
        pk = input_id(global_id, *_TYPES[kind])
        await svc.refresh(actor_of(info), info.context.settings, kind=kind, pk=pk)
        return await _result(kind, pk)

    return await _payload(kind, run)


async def unlink(info: strawberry.Info, *, kind: str, global_id: str) -> Any:
    """`contactCrmUnlink` / `accountCrmUnlink`."""

    async def run() -> dict[str, Any]:
        pk = input_id(global_id, *_TYPES[kind])
        await svc.unlink(actor_of(info), kind=kind, pk=pk)
        return await _result(kind, pk)

    return await _payload(kind, run)
