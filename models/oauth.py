"""OAuth 2 clients and grants for the Mastodon client API. Secrets are stored as SHA-256 hashes."""

from __future__ import annotations

from tortoise import fields

from models.base import SnowflakeModel


class Application(SnowflakeModel):
    name = fields.CharField(max_length=255)
    website = fields.CharField(max_length=1024, null=True)
    client_id = fields.CharField(max_length=64, unique=True)
    client_secret_hash = fields.CharField(max_length=64)
    redirect_uris = fields.TextField()  # one per line, matched exactly
    scopes = fields.CharField(max_length=1024, default="read", db_default="read")
    owner: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name="applications", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "oauth_applications"

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri for uri in self.redirect_uris.splitlines() if uri]


class AuthorizationCode(SnowflakeModel):
    code_hash = fields.CharField(max_length=64, unique=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="codes", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name="authorization_codes", on_delete=fields.CASCADE
    )
    redirect_uri = fields.CharField(max_length=2048)
    scopes = fields.CharField(max_length=1024)
    code_challenge = fields.CharField(max_length=128, null=True)
    code_challenge_method = fields.CharField(max_length=16, null=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oauth_authorization_codes"


class AccessToken(SnowflakeModel):
    token_hash = fields.CharField(max_length=64, unique=True)
    application: fields.ForeignKeyNullableRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    # NULL for client-credentials tokens, which act for the app alone.
    user: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User",
        related_name="access_tokens",
        null=True,
        on_delete=fields.CASCADE,
        db_index=True,
    )
    scopes = fields.CharField(max_length=1024)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "oauth_access_tokens"
