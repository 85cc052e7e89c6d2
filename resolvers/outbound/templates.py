"""Template mutations: folders, email templates, ticket templates, follow-up tags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql.resolvers.common import mutate
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id, optional_input_id
from deskql.services import templates as templates_svc

if TYPE_CHECKING:
    from deskql.schema.outbound import (
        EmailTemplateIdInput,
        EmailTemplateSaveInput,
        TagFollowUpInput,
        TemplateFolderCreateInput,
        TicketTemplateCreateInput,
    )


# -- templates -------------------------------------------------------------------------------


async def template_folder_create(info: strawberry.Info, input: TemplateFolderCreateInput) -> Any:
    """`templateFolderCreate`."""
    from deskql.schema.outbound import TemplateFolder, TemplateFolderPayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.create_folder(
            actor_of(info),
            name=input.name,
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
        )
        return {"folder": TemplateFolder.from_row(row)}

    return await mutate(TemplateFolderPayload, run)


async def email_template_save(info: strawberry.Info, input: EmailTemplateSaveInput) -> Any:
    """`emailTemplateSave`."""
    from deskql.schema.outbound import EmailTemplate, EmailTemplatePayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.save_template(
            actor_of(info),
            template_id=optional_input_id(input.id, "EmailTemplate", "id"),
            name=input.name,
            subject=input.subject,
            body_text=input.body_text,
            body_html=input.body_html,
            folder_id=optional_input_id(input.folder_id, "TemplateFolder", "folderId"),
            department_id=optional_input_id(input.department_id, "Department", "departmentId"),
            from_address_id=optional_input_id(
                input.from_address_id, "FromAddress", "fromAddressId"
            ),
        )
        return {"email_template": EmailTemplate.from_row(row)}

    return await mutate(EmailTemplatePayload, run)


async def email_template_delete(info: strawberry.Info, input: EmailTemplateIdInput) -> Any:
    """`emailTemplateDelete`."""
    from deskql.schema.outbound import EmailTemplate, EmailTemplatePayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.delete_template(
            actor_of(info), template_id=input_id(input.id, "EmailTemplate", "id")
        )
        return {"email_template": EmailTemplate.from_row(row)}

    return await mutate(EmailTemplatePayload, run)


async def ticket_template_create(info: strawberry.Info, input: TicketTemplateCreateInput) -> Any:
    """`ticketTemplateCreate`."""
    from deskql.schema.outbound import TicketTemplate, TicketTemplatePayload

    async def run() -> dict[str, Any]:
        row = await templates_svc.create_ticket_template(
            actor_of(info),
            department_id=input_id(input.department_id, "Department", "departmentId"),
            name=input.name,
            subject=input.subject,
            description=input.description,
            priority=input.priority,
        )
        return {"ticket_template": TicketTemplate.from_row(row)}

    return await mutate(TicketTemplatePayload, run)


async def tag_follow_up(info: strawberry.Info, input: TagFollowUpInput) -> Any:
    """`tagFollowUp`."""
    from deskql.schema.ids import to_global_id
    from deskql.schema.outbound import TagFollowUpPayload

    async def run() -> dict[str, Any]:
        done = await templates_svc.follow_up_tag(
            actor_of(info),
            settings=info.context.settings,
            tag=input.tag,
            template_id=input_id(input.template_id, "EmailTemplate", "templateId"),
        )
        return {"ticket_ids": [strawberry.ID(to_global_id("Ticket", pk)) for pk in done]}

    return await mutate(TagFollowUpPayload, run)
