"""Contacts, accounts and products (CUS-1, CUS-2, CUS-9)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Account(Model):
    """A customer company (CUS-2)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254, default="")
    phone = fields.CharField(max_length=40, default="")
    website = fields.CharField(max_length=500, default="")
    description = fields.TextField(default="")
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="owned_accounts", null=True, on_delete=fields.SET_NULL
    )
    # Normalised comparison keys (services.customer_keys), written with the row, for finding
    # duplicates with GROUP BY (CUS-5); "" when the field is empty.
    name_key = fields.CharField(max_length=200, default="", db_default="", db_index=True)
    email_key = fields.CharField(max_length=254, default="", db_default="", db_index=True)
    phone_key = fields.CharField(max_length=40, default="", db_default="", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        """Save with the comparison keys of the current values."""
        from deskql.services.customer_keys import account_keys

        for key, value in account_keys(self.name, self.email, self.phone).items():
            setattr(self, key, value)
        await super().save(*args, **kwargs)

    class Meta:
        table = "account"
        ordering = ["id"]
        indexes = (("created_at", "id"),)


class Contact(Model):
    """An end user who raises tickets (CUS-1)."""

    id = fields.IntField(primary_key=True)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254, null=True, unique=True)
    secondary_email = fields.CharField(max_length=254, default="")
    phone = fields.CharField(max_length=40, default="")
    mobile = fields.CharField(max_length=40, default="")
    description = fields.TextField(default="")
    account = fields.ForeignKeyField(
        "models.Account", related_name="contacts", null=True, on_delete=fields.SET_NULL
    )
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="owned_contacts", null=True, on_delete=fields.SET_NULL
    )
    # Normalised comparison keys (services.customer_keys), written with the row, for finding
    # duplicates with GROUP BY (CUS-5); "" when the field is empty.
    first_name_key = fields.CharField(max_length=100, default="", db_default="", db_index=True)
    last_name_key = fields.CharField(max_length=100, default="", db_default="", db_index=True)
    full_name_key = fields.CharField(max_length=201, default="", db_default="", db_index=True)
    email_key = fields.CharField(max_length=254, default="", db_default="", db_index=True)
    secondary_email_key = fields.CharField(max_length=254, default="", db_default="", db_index=True)
    phone_key = fields.CharField(max_length=40, default="", db_default="", db_index=True)
    mobile_key = fields.CharField(max_length=40, default="", db_default="", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contact"
        ordering = ["id"]
        indexes = (("account_id", "id"), ("updated_at", "id"))

    async def save(self, *args: Any, **kwargs: Any) -> None:
        """Save with the comparison keys of the current values."""
        from deskql.services.customer_keys import contact_keys

        keys = contact_keys(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            secondary_email=self.secondary_email,
            phone=self.phone,
            mobile=self.mobile,
        )
        for key, value in keys.items():
            setattr(self, key, value)
        await super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        """Full display name."""
        return f"{self.first_name} {self.last_name}".strip()


class Product(Model):
    """An entry in the product catalogue (CUS-9)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    code = fields.CharField(max_length=60, default="")
    description = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "product"
        ordering = ["id"]


class ContactProduct(Model):
    """Link between a contact and a product they use."""

    id = fields.IntField(primary_key=True)
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="product_links", on_delete=fields.CASCADE
    )
    product = fields.ForeignKeyField(
        "models.Product", related_name="contact_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "contact_product"
        unique_together = (("contact", "product"),)


class AccountProduct(Model):
    """Link between an account and a product it uses."""

    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField(
        "models.Account", related_name="product_links", on_delete=fields.CASCADE
    )
    product = fields.ForeignKeyField(
        "models.Product", related_name="account_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "account_product"
        unique_together = (("account", "product"),)


class ContactEmailAlias(Model):
    """An address of a contact merged into another (CUS-5): mail from it lands on the
    survivor, and no new contact is created for it."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    contact = fields.ForeignKeyField(
        "models.Contact", related_name="email_aliases", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "contact_email_alias"
        ordering = ["id"]


class CrmLink(Model):
    """The external CRM record a contact or an account is mapped to, and its last fetched
    version (CUS-6). Exactly one of contact and account is set."""

    id = fields.IntField(primary_key=True)
    contact = fields.OneToOneField(
        "models.Contact", related_name="crm_link", null=True, on_delete=fields.CASCADE
    )
    account = fields.OneToOneField(
        "models.Account", related_name="crm_link", null=True, on_delete=fields.CASCADE
    )
    external_id = fields.CharField(max_length=100)
    url = fields.CharField(max_length=1000, default="")
    # The mapped properties as the CRM returned them ({name: value}).
    fields_json = fields.JSONField(default=dict)
    remote_updated_at = fields.DatetimeField(null=True)
    fetched_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "crm_link"
        ordering = ["id"]


class CustomerView(Model):
    """A saved contact or account list view (CUS-7): criteria and sort, private to its owner
    unless an administrator shares it with every agent."""

    id = fields.IntField(primary_key=True)
    # "CONTACT" or "ACCOUNT"
    kind = fields.CharField(max_length=16)
    name = fields.CharField(max_length=120)
    owner = fields.ForeignKeyField(
        "models.Agent", related_name="customer_views", null=True, on_delete=fields.CASCADE
    )
    is_shared = fields.BooleanField(default=False)
    criteria = fields.JSONField(default=dict)
    sort_field = fields.CharField(max_length=32, default="NAME")
    sort_direction = fields.CharField(max_length=4, default="ASC")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer_view"
        ordering = ["id"]


class SignedUrlUse(Model):
    """A signed URL that was used once (services.signed_urls): a second GET is a replay."""

    id = fields.IntField(primary_key=True)
    nonce = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signed_url_use"
