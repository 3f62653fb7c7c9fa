"""The fake identity provider's users, grants, RSA keys (made in-process) and ID tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


@dataclass
class FakeUser:
    """Who the fake signs in: a tenant member, or a guest when `home_issuer` is set."""

    upn: str
    name: str
    email: str | None = None
    oid: str = field(default_factory=lambda: secrets.token_hex(16))
    home_issuer: str | None = None


@dataclass
class Grant:
    """An authorization code handed out by authorize, redeemable once at the token endpoint."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    user: FakeUser
    used: bool = False


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> KeyPair:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass(frozen=True)
class Signer:
    """How to sign: with `keys` ("own" or "foreign"), unsigned ("none"), or "tampered" after."""

    keys: KeyPair
    mode: str


def id_token_for(
    grant: Grant,
    issuer: str,
    tenant: str,
    now: datetime,
    overrides: dict[str, Any],
    signer: Signer,
) -> str:
    """An Entra-shaped v2.0 ID token for the grant's user; `overrides` of None drop a claim."""
    user = grant.user
    claims: dict[str, Any] = {
        "ver": "2.0",
        "iss": issuer,
        "aud": grant.client_id,
        "sub": hashlib.sha256(user.oid.encode()).hexdigest()[:43],
        "oid": user.oid,
        "tid": tenant,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "nonce": grant.nonce,
        "name": user.name,
        "preferred_username": user.upn,
    }
    if user.email is not None:
        claims["email"] = user.email
    if user.home_issuer is not None:
        claims["idp"] = user.home_issuer
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": signer.keys.kid}
    if signer.mode == "none":
        return jwt.encode(claims, None, algorithm="none", headers=headers)
    token = jwt.encode(claims, signer.keys.private, algorithm="RS256", headers=headers)
    if signer.mode == "tampered":  # change the payload after signing it
        head, _, signature = token.split(".")
        changed = {**claims, "preferred_username": "someone.else@council.example"}
        raw = json.dumps(changed, separators=(",", ":")).encode()
        payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        token = f"{head}.{payload}.{signature}"
    return token
