"""A CRM connector speaking HubSpot's CRM v3 objects API (CUS-6).

    GET {base}/crm/v3/objects/{contacts|companies}/{id}?properties=a,b,c
    Authorization: Bearer <private app token>
    200 {"id": "123", "properties": {"a": ..., ...}, "createdAt": ..., "updatedAt": ...,
         "archived": false}
    404 {"status": "error", "category": "OBJECT_NOT_FOUND", ...}

Configured by environment variables (settings.py): DESKQL_CRM_BASE_URL (https://api.hubapi.com;
plain http only for a loopback host, i.e. tests and local mocks), DESKQL_CRM_TOKEN,
DESKQL_CRM_CONTACT_PROPERTIES / DESKQL_CRM_COMPANY_PROPERTIES (comma-separated),
DESKQL_CRM_RECORD_URL (link to the record in the CRM's UI, with {object} and {id}),
DESKQL_CRM_TIMEOUT_MS (per attempt) and DESKQL_CRM_RETRIES (extra attempts after a timeout, a
connection failure, 429 or 5xx, with exponential backoff).

Failures are CrmError with a code: CRM_NOT_CONFIGURED, CRM_UNAVAILABLE (timeout, connection,
5xx, 429, 401/403), NOT_FOUND (404), CRM_BAD_RESPONSE (not JSON, HTML, no properties, or a
record with another id than asked).
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from deskql.services.errors import ErrorCode
from deskql.settings import Settings

OBJECTS = {"contact": "contacts", "account": "companies"}
BACKOFF_SECONDS = 0.2
MAX_BODY = 1_000_000  # a record bigger than this is not a record


class CrmError(Exception):
    """The CRM could not give the record; `code` says why."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CrmRecord:
    """A record as the CRM returned it."""

    external_id: str
    url: str
    fields: dict[str, Any]
    updated_at: datetime | None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base(settings: Settings) -> str:
    base = settings.crm_base_url.strip().rstrip("/")
    if not base:
        raise CrmError(ErrorCode.CRM_NOT_CONFIGURED, "no CRM is configured (DESKQL_CRM_BASE_URL)")
    parts = urlsplit(base)
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname or "")):
        raise CrmError(
            ErrorCode.CRM_NOT_CONFIGURED,
            "DESKQL_CRM_BASE_URL must be https:// (plain http only on a loopback address)",
        )
    return base


def _properties(settings: Settings, kind: str) -> list[str]:
    raw = settings.crm_contact_properties if kind == "contact" else settings.crm_company_properties
    return [p.strip() for p in raw.split(",") if p.strip()]


def _updated(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse(response: httpx.Response, kind: str, external_id: str, settings: Settings) -> CrmRecord:
    kind_text = response.headers.get("content-type", "")
    if "json" not in kind_text.lower():
        raise CrmError(
            ErrorCode.CRM_BAD_RESPONSE,
            f"the CRM answered {kind_text.split(';')[0] or 'something'} instead of JSON",
        )
    if len(response.content) > MAX_BODY:
        raise CrmError(ErrorCode.CRM_BAD_RESPONSE, "the CRM's answer is too large")
    try:
        body = response.json()
    except ValueError:
        raise CrmError(ErrorCode.CRM_BAD_RESPONSE, "the CRM's answer is not valid JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise CrmError(ErrorCode.CRM_BAD_RESPONSE, "the CRM's answer has no record properties")
    if str(body.get("id")) != external_id:
        raise CrmError(
            ErrorCode.CRM_BAD_RESPONSE,
            f"the CRM returned record {str(body.get('id'))[:40]!r} for {external_id!r}",
        )
    wanted = _properties(settings, kind)
    props = body["properties"]
    fields = {
        name: props.get(name) if isinstance(props.get(name), str | int | float | bool) else None
        for name in wanted
    }
    template = settings.crm_record_url
    url = (
        template.replace("{object}", OBJECTS[kind]).replace("{id}", quote(external_id, safe=""))
        if template
        else ""
    )
    return CrmRecord(external_id, url, fields, _updated(body.get("updatedAt")))


async def fetch(settings: Settings, *, kind: str, external_id: str) -> CrmRecord:
    """The record's current version from the CRM (never call inside a transaction)."""
    base = _base(settings)
    url = f"{base}/crm/v3/objects/{OBJECTS[kind]}/{quote(external_id, safe='')}"
    params = {"properties": ",".join(_properties(settings, kind)), "archived": "false"}
    headers = {"Accept": "application/json"}
    if settings.crm_token:
        headers["Authorization"] = f"Bearer {settings.crm_token}"
    timeout = httpx.Timeout(settings.crm_timeout_ms / 1000)
    attempts = max(0, settings.crm_retries) + 1
    last = "no attempt"
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                response = await client.get(url, params=params, headers=headers)
            except httpx.TimeoutException:
                last = f"the CRM did not answer within {settings.crm_timeout_ms} ms"
                continue
            except httpx.HTTPError as exc:
                last = f"the CRM could not be reached ({type(exc).__name__})"
                continue
            status = response.status_code
            if status == 404:
                raise CrmError(ErrorCode.NOT_FOUND, f"the CRM has no record {external_id!r}")
            if status in (401, 403):
                raise CrmError(ErrorCode.CRM_UNAVAILABLE, f"the CRM refused the token ({status})")
            if status == 429 or status >= 500:
                last = f"the CRM failed with HTTP {status}"
                continue
            if status != 200:
                raise CrmError(ErrorCode.CRM_BAD_RESPONSE, f"the CRM answered HTTP {status}")
            return _parse(response, kind, external_id, settings)
    raise CrmError(ErrorCode.CRM_UNAVAILABLE, f"{last} (after {attempts} attempts)")
