"""Role gates declared on fields (DESIGN rule 2); object checks live in the services."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from deskql.services.errors import PermissionDenied


class IsAuthenticated(BasePermission):
    """The request carries a valid token of an active agent."""

    message = "authentication required"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        # Raises NotAuthenticated saying why (missing, revoked, expired, deactivated); the
        # instance is shared by all requests, so the reason cannot be kept on it.
        info.context.require_actor()
        return True


class IsAdmin(BasePermission):
    """The acting agent is an administrator."""

    message = "only administrators may do this"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if not info.context.require_actor().is_admin:
            raise PermissionDenied(self.message)
        return True
