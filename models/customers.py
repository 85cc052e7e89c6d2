"""Contacts, accounts and products (CUS-1, CUS-2, CUS-9)."""

from __future__ import annotations

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
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "account"
        ordering = ["id"]


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
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "contact"
        ordering = ["id"]

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
