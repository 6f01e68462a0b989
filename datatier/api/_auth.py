"""Authentication and role rules for the API: who is calling (JWT bearer token or API key) and what
their role may do.

``AuthMiddleware`` turns a request's credentials into an ``Identity`` in ``scope["state"]["identity"]``
or answers 401; ``authorize`` checks an identity's role against the per-model, per-operation-kind
allow rules and raises ``Forbidden`` (``_access`` applies them to the related models a
query document reaches).

Security choices (docs/api-auth.md says them to users):

- Each key accepts exactly one algorithm family, chosen by the key's type and never by the token:
  the HS256 secret only HS256, an RSA key only RS256, an EC key only the ES algorithm of its curve.
  ``alg: none`` matches no key, and an HS256 token signed with an RSA public key's PEM as its secret
  is checked against the HS256 secret (or refused when there is none), never against that key.
- API keys are long random strings, so they are stored as HMAC-SHA256 digests with a server-side
  pepper (``DATATIER_API_KEY_PEPPER``), compared in constant time. A slow password hash (argon2)
  protects low-entropy passwords; for 256-bit random keys it would only add tens of milliseconds to
  every request.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import hmac
import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from datatier.api._problems import MEDIA_TYPE, HttpProblem, problem_for
from datatier.api._settings import ApiSettings
from datatier.errors import ConfigError, Forbidden, Unauthenticated

__all__ = [
    "OPERATION_KINDS",
    "ApiKey",
    "AuthMiddleware",
    "AuthSettings",
    "Identity",
    "JwksCache",
    "authorize",
    "authorize_procedure",
    "hash_api_key",
    "operation_kind",
    "route_path",
    "send_json",
]

OperationKind = Literal["read", "create", "update", "delete", "call"]
# ``call`` is the one kind of a user-defined procedure (a rule keyed by the procedure's name).
OPERATION_KINDS: tuple[OperationKind, ...] = ("read", "create", "update", "delete", "call")

# Prisma Client's operation names (lower-cased, underscores dropped, so ``find_many`` matches too)
# and the kinds of access each needs. An upsert may create or update, so it needs both.
_OPERATIONS: dict[str, tuple[OperationKind, ...]] = {
    **{
        name.lower(): ("read",)
        for name in (
            "findUnique",
            "findUniqueOrThrow",
            "findUniqueOrRaise",
            "findFirst",
            "findFirstOrThrow",
            "findFirstOrRaise",
            "findMany",
            "count",
            "aggregate",
            "groupBy",
        )
    },
    "create": ("create",),
    "createmany": ("create",),
    "createmanyandreturn": ("create",),
    "update": ("update",),
    "updatemany": ("update",),
    "updatemanyandreturn": ("update",),
    "upsert": ("create", "update"),
    "delete": ("delete",),
    "deletemany": ("delete",),
}

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_PUBLIC_PATHS = ("/healthz", "/readyz")
_TOKEN_CACHE_SECONDS = 60.0
_TOKEN_CACHE_SIZE = 10_000
_NO_CREDENTIALS = (
    "this API needs credentials: an 'Authorization: Bearer <token>' or 'X-API-Key' header"
)


def operation_kind(operation: str) -> tuple[OperationKind, ...]:
    """The kinds of access (``read``, ``create``, ...) a Prisma operation name needs; () if unknown."""
    return _OPERATIONS.get(operation.replace("_", "").lower(), ())


def hash_api_key(key: str, pepper: str) -> str:
    """The stored form of an API key: hex HMAC-SHA256 of the key under the server's pepper."""
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def _model_key(model: str) -> str:
    # Rules may name a model as the schema does (``OrderItem``) or as its accessor (``orderItem``).
    return model[:1].lower() + model[1:]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: ``user_id`` (the token's subject or the API key's id), ``role``, the claims."""

    user_id: str | None
    role: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    method: Literal["jwt", "api_key", "anonymous"] = "jwt"

    @property
    def key(self) -> str | None:
        """A stable key for per-identity limits (None for anonymous callers)."""
        if self.method == "anonymous" or self.user_id is None:
            return None
        return f"{self.method}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One API key as configured: its ``id`` (not secret), ``hash`` (see ``hash_api_key``), ``role``."""

    id: str
    hash: str
    role: str
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class _Key:
    key: Any  # str for HS256, a cryptography public key otherwise
    algorithm: str
    kid: str | None = None


def _public_key(value: Any, where: str, kid: str | None = None) -> _Key:
    """A PEM text or cryptography public key pinned to the one algorithm its type allows."""
    key = value
    if isinstance(value, str | bytes):
        text = value.encode() if isinstance(value, str) else value
        try:
            key = load_pem_public_key(text)
        except ValueError as error:
            raise ConfigError(
                f"{where}: not a PEM public key ({error}); give the text of a "
                "'-----BEGIN PUBLIC KEY-----' block"
            ) from None
    if isinstance(key, rsa.RSAPublicKey):
        return _Key(key, "RS256", kid)
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
        return _Key(key, _EC_ALGORITHMS[key.curve.name], kid)
    raise ConfigError(
        f"{where}: a {type(key).__name__} is not accepted; use an RSA key (RS256) or an EC key "
        "on P-256, P-384 or P-521 (ES256/ES384/ES512)"
    )


def _parse_rules(
    rules: Mapping[str, Mapping[str, str | Sequence[str]]],
) -> dict[str, dict[str, frozenset[str]]]:
    parsed: dict[str, dict[str, frozenset[str]]] = {}
    for role, models in rules.items():
        if not isinstance(models, Mapping):
            raise ConfigError(
                f"auth rules: role {role!r} must map models to operation kinds, "
                f'e.g. {{"post": ["read"]}}, not {models!r}'
            )
        parsed[role] = {}
        for model, kinds in models.items():
            if not isinstance(kinds, str | list | tuple | set | frozenset):
                raise ConfigError(
                    f"auth rules: role {role!r}, model {model!r}: give a kind or a list of kinds "
                    f"(read, create, update, delete, '*'), not {kinds!r}"
                )
            names = [kinds] if isinstance(kinds, str) else list(kinds)
            allowed: set[str] = set()
            for kind in names:
                if kind == "*":
                    allowed.update(OPERATION_KINDS)
                elif kind in OPERATION_KINDS:
                    allowed.add(kind)
                else:
                    raise ConfigError(
                        f"auth rules: role {role!r}, model {model!r}: unknown operation kind "
                        f"{kind!r}; use {', '.join(OPERATION_KINDS)} or '*'"
                    )
            parsed[role][model if model == "*" else _model_key(model)] = frozenset(allowed)
    return parsed


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How the API authenticates callers and what each role may do.

    ``jwt_secret`` verifies HS256 tokens; ``jwt_public_keys`` (PEM texts) and ``jwks_url`` verify
    RS256/ES256 tokens. ``audience`` and ``issuer``, when set, must be in every token, and so must
    ``exp`` unless ``require_exp`` is off. ``api_keys`` are hashed with ``api_key_pepper``.
    ``anonymous_role`` is the role of a request without credentials (None: such requests get 401).
    ``rules`` map role -> model (or ``*``) -> operation kinds (``read``/``create``/``update``/
    ``delete`` or ``*``); anything not allowed is forbidden.
    """

    jwt_secret: str | None = field(default=None, repr=False)  # never in logs
    jwt_public_keys: tuple[str, ...] = ()
    jwks_url: str | None = None
    jwks_cache_seconds: float = 300.0
    audience: str | None = None
    issuer: str | None = None
    leeway_seconds: float = 30.0
    require_exp: bool = True
    role_claim: str = "role"
    user_id_claim: str = "sub"
    default_role: str | None = None
    api_keys: tuple[ApiKey, ...] = ()
    api_key_pepper: str | None = field(default=None, repr=False)
    anonymous_role: str | None = None
    rules: Mapping[str, Mapping[str, str | Sequence[str]]] = field(default_factory=dict)
    public_paths: tuple[str, ...] = _PUBLIC_PATHS
    realm: str = "datatier"
    _keys: tuple[_Key, ...] = field(init=False, repr=False, compare=False)
    _rules: dict[str, dict[str, frozenset[str]]] = field(init=False, repr=False, compare=False)
    _api_keys: dict[str, ApiKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys: list[_Key] = []
        if self.jwt_secret is not None:
            if len(self.jwt_secret.encode()) < 32:
                raise ConfigError(
                    "auth jwt_secret: an HS256 secret needs at least 32 bytes (256 bits); "
                    "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            keys.append(_Key(self.jwt_secret, "HS256"))
        for index, pem in enumerate(self.jwt_public_keys):
            keys.append(_public_key(pem, f"auth jwt_public_keys[{index}]"))
        if self.api_keys and not self.api_key_pepper:
            raise ConfigError(
                "auth api_keys need api_key_pepper (the secret their hashes were made with); "
                "set DATATIER_API_KEY_PEPPER"
            )
        by_hash: dict[str, ApiKey] = {}
        for api_key in self.api_keys:
            if len(api_key.hash) != 64:
                raise ConfigError(
                    f"auth api_keys: key {api_key.id!r} hash must be 64 hex digits "
                    "(hash_api_key(key, pepper)), not the key itself"
                )
            by_hash[api_key.hash.lower()] = api_key
        if self.jwks_url is not None and (self.audience is None or self.issuer is None):
            # An identity provider's key set signs tokens for every service it serves; without
            # aud and iss checks a token minted for another service would be accepted here.
            raise ConfigError(
                "auth jwks_url needs audience and issuer: the identity provider's keys also sign "
                "tokens meant for other services; set audience (this API's id) and issuer"
            )
        if self.leeway_seconds < 0:
            raise ConfigError(f"auth leeway_seconds must be >= 0, not {self.leeway_seconds}")
        object.__setattr__(self, "_keys", tuple(keys))
        object.__setattr__(self, "_rules", _parse_rules(self.rules))
        object.__setattr__(self, "_api_keys", by_hash)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], env: Mapping[str, str] | None = None
    ) -> AuthSettings:
        """Settings from a ``[server.auth]`` table; secrets come from the environment.

        ``DATATIER_JWT_SECRET`` and ``DATATIER_API_KEY_PEPPER`` win over the table's
        ``jwt_secret``/``api_key_pepper``; ``jwt_public_key_files`` names PEM files.
        """
        environ = os.environ if env is None else env
        known = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        known |= {"jwt_public_key_files"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ConfigError(
                f"[server.auth]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values = {k: v for k, v in config.items() if k != "jwt_public_key_files"}
        pems = list(values.pop("jwt_public_keys", ()))
        for path in config.get("jwt_public_key_files", ()):
            try:
                with open(path, encoding="utf-8") as file:
                    pems.append(file.read())
            except OSError as error:
                raise ConfigError(f"[server.auth] jwt_public_key_files: {path}: {error}") from None
        values["jwt_public_keys"] = tuple(pems)
        values["jwt_secret"] = environ.get("DATATIER_JWT_SECRET") or values.get("jwt_secret")
        values["api_key_pepper"] = environ.get("DATATIER_API_KEY_PEPPER") or values.get(
            "api_key_pepper"
        )
        keys = []
        for entry in values.pop("api_keys", ()):
            try:
                keys.append(ApiKey(**entry))
            except TypeError as error:
                raise ConfigError(
                    f"[server.auth] api_keys: {entry!r}: {error}; give id, hash, role (revoked)"
                ) from None
        values["api_keys"] = tuple(keys)
        if "public_paths" in values:
            values["public_paths"] = tuple(values["public_paths"])
        return cls(**values)

    def check_models(self, models: Iterable[str], procedures: Iterable[str] = ()) -> None:
        """Raise ``ConfigError`` if a rule names a model that is not in ``models`` (the schema's)
        nor a procedure: a misspelt name would otherwise just forbid everything, silently."""
        known = {_model_key(model) for model in [*models, *procedures]}
        for role, rules in self._rules.items():
            for model in rules:
                if model == "*" or model in known:
                    continue
                close = difflib.get_close_matches(model, sorted(known), 1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"models: {', '.join(sorted(known))}"
                )
                raise ConfigError(
                    f"auth rules: role {role!r} names model {model!r}, which the schema does not "
                    f"have (nor is it a procedure); {hint}"
                )

    @property
    def accepts_jwt(self) -> bool:
        return bool(self._keys) or self.jwks_url is not None

    def find_api_key(self, key: str) -> ApiKey | None:
        """The configured key whose hash matches ``key``, compared in constant time."""
        if not self.api_key_pepper:
            return None
        digest = hash_api_key(key, self.api_key_pepper)
        found: ApiKey | None = None
        for stored, api_key in self._api_keys.items():
            if hmac.compare_digest(stored, digest):
                found = api_key
        return found

    def wildcard(self, role: str) -> frozenset[str]:
        """The kinds ``role`` may do on every model (its ``*`` rule; empty without one)."""
        return self._rules.get(role, {}).get("*", frozenset())

    def allows(self, role: str, model: str, kind: str) -> bool:
        """Whether ``role`` may do ``kind`` on ``model`` (by a rule for the model or for ``*``)."""
        models = self._rules.get(role)
        if models is None:
            return False
        allowed = models.get(_model_key(model))
        if allowed is not None and kind in allowed:
            return True
        wildcard = models.get("*")
        return wildcard is not None and kind in wildcard


def authorize(
    identity: Identity | None,
    model: str,
    operation: str,
    settings: AuthSettings | ApiSettings | None,
) -> None:
    """Raise ``Forbidden`` unless ``identity``'s role may run ``operation`` on ``model``.

    ``settings`` is the ``AuthSettings`` or an ``ApiSettings`` holding them; a no-op when auth
    is off (None either way). Unknown operations are refused.
    """
    auth: AuthSettings | None = settings.auth if isinstance(settings, ApiSettings) else settings
    if auth is None:
        return
    if identity is None:
        raise Forbidden(
            f"{operation} on {model}: the request has no identity (is AuthMiddleware installed?)",
            model=model,
            operation=operation,
        )
    kinds = operation_kind(operation)
    if not kinds:
        raise Forbidden(
            f"{operation} on {model}: not an operation the role rules know",
            role=identity.role,
            model=model,
            operation=operation,
        )
    for kind in kinds:
        if not auth.allows(identity.role, model, kind):
            raise Forbidden(
                f"role {identity.role!r} may not {kind} {model} ({operation}); "
                f"add {kind!r} for {_model_key(model)!r} to the role's rules to allow it",
                role=identity.role,
                model=model,
                operation=operation,
            )


def authorize_procedure(identity: Identity | None, name: str, auth: AuthSettings) -> None:
    """Raise ``Forbidden`` unless ``identity``'s role may ``call`` the procedure ``name``."""
    if identity is None:
        raise Forbidden(
            f"procedure {name}: the request has no identity (is AuthMiddleware installed?)",
            operation=name,
        )
    if not auth.allows(identity.role, name, "call"):
        raise Forbidden(
            f"role {identity.role!r} may not call procedure {name}; add 'call' for "
            f"{_model_key(name)!r} to the role's rules to allow it",
            role=identity.role,
            operation=name,
        )


class JwksCache:
    """Keys from a JWKS URL, fetched in a thread and kept ``ttl`` seconds.

    A token naming a ``kid`` the cache does not hold triggers one refetch, at most every 10 s,
    so rotated keys are picked up without letting bad tokens hammer the key server.
    """

    def __init__(self, url: str, ttl: float, timeout: float = 5.0) -> None:
        self.url = url
        self.ttl = ttl
        self.timeout = timeout
        self._keys: tuple[_Key, ...] = ()
        self._fetched = float("-inf")
        self._next_try = float("-inf")  # after a failed fetch, not before this
        self._error: str | None = None
        self._lock = asyncio.Lock()

    def _fetch(self) -> tuple[_Key, ...]:
        with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
            document = json.loads(response.read())
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS document (no 'keys' list)")
        keys: list[_Key] = []
        for index, jwk in enumerate(document["keys"]):
            if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
                continue
            if jwk.get("kty") not in {"RSA", "EC"}:
                continue  # symmetric keys are never taken from a URL
            try:
                key = jwt.PyJWK(jwk).key
                keys.append(_public_key(key, f"JWKS {self.url} key {index}", jwk.get("kid")))
            except (jwt.PyJWKError, ConfigError):
                continue
        return tuple(keys)

    async def keys(self, kid: str | None) -> tuple[_Key, ...]:
        """The cached keys, refreshed when stale or when ``kid`` is unknown (rate-limited)."""
        now = time.monotonic()
        stale = now - self._fetched > self.ttl
        unknown_kid = kid is not None and all(k.kid != kid for k in self._keys)
        if (stale or (unknown_kid and now - self._fetched > 10.0)) and now >= self._next_try:
            async with self._lock:
                if self._fetched < now and time.monotonic() >= self._next_try:
                    try:
                        self._keys = await asyncio.to_thread(self._fetch)
                        self._fetched = time.monotonic()
                        self._error = None
                    except (OSError, ValueError) as error:
                        # Keep the keys we had; try again in 10 s, not on every request.
                        self._error = f"{type(error).__name__}: {error}"
                        self._next_try = time.monotonic() + 10.0
        if not self._keys and self._error is not None:
            raise HttpProblem(
                503,
                "auth_unavailable",
                f"the token signing keys could not be fetched from {self.url} ({self._error})",
                title="Authentication unavailable",
                headers={"Retry-After": "10"},
            )
        return self._keys


class AuthMiddleware:
    """ASGI middleware: verify ``Authorization: Bearer`` / ``X-API-Key`` and set the identity.

    Requests to ``settings.public_paths`` pass with identity None; failures answer 401
    ``application/problem+json`` with ``code: unauthenticated`` and a ``WWW-Authenticate`` header.
    """

    def __init__(
        self,
        app: ASGIApp,
        settings: AuthSettings | ApiSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(settings, ApiSettings):
            if not isinstance(settings.auth, AuthSettings):
                raise ConfigError("AuthMiddleware needs ApiSettings.auth to be an AuthSettings")
            settings = settings.auth
        self.app = app
        self.settings: AuthSettings = settings
        self.jwks = (
            JwksCache(settings.jwks_url, settings.jwks_cache_seconds) if settings.jwks_url else None
        )
        # Verified tokens -> (identity, valid until): verifying costs 80-160 us, and clients send
        # the same token many times. An entry lasts until the token expires and at most
        # _TOKEN_CACHE_SECONDS (so a key taken out of the JWKS stops working soon after).
        self._verified: dict[str, tuple[Identity, float]] = {}
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if route_path(scope) in self.settings.public_paths:
            state["identity"] = None
            await self.app(scope, receive, send)
            return
        try:
            state["identity"] = await self.authenticate(_headers(scope["headers"]))
        except Unauthenticated as error:
            await self._refuse(scope, send, error)
            return
        except HttpProblem as problem:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1011, "reason": problem.code})
                return
            status, body = problem_for(problem)
            headers = [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
            await send_json(send, status, body, headers)
            return
        await self.app(scope, receive, send)

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        """The identity the headers prove, or raise ``Unauthenticated`` saying why not."""
        authorization = headers.get("authorization")
        api_key = headers.get("x-api-key")
        if authorization is not None and api_key is not None:
            raise Unauthenticated("send either Authorization or X-API-Key, not both")
        if api_key is not None:
            return self._api_key_identity(api_key)
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
            return await self._jwt_identity(token.strip())
        if self.settings.anonymous_role is not None:
            return Identity(None, self.settings.anonymous_role, {}, "anonymous")
        raise Unauthenticated(_NO_CREDENTIALS)

    def _api_key_identity(self, key: str) -> Identity:
        found = self.settings.find_api_key(key)
        if found is None:
            raise Unauthenticated("unknown API key")
        if found.revoked:
            raise Unauthenticated(f"API key {found.id!r} was revoked")
        return Identity(found.id, found.role, {}, "api_key")

    async def _candidate_keys(self, kid: str | None) -> list[_Key]:
        keys = list(self.settings._keys)
        if self.jwks is not None:
            keys.extend(await self.jwks.keys(kid))
        return keys

    async def _jwt_identity(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None:
            if self._clock() < cached[1]:
                return cached[0]
            del self._verified[token]  # expired: verify again, which says why it fails
        settings = self.settings
        if not settings.accepts_jwt:
            raise Unauthenticated("this API accepts no bearer tokens (no JWT keys are configured)")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"malformed token: {error}") from None
        algorithm = header.get("alg")
        kid = header.get("kid")
        keys = [k for k in await self._candidate_keys(kid) if k.algorithm == algorithm]
        if kid is not None and any(k.kid == kid for k in keys):
            keys = [k for k in keys if k.kid == kid]
        if not keys:
            raise Unauthenticated(f"tokens signed with {algorithm!r} are not accepted")
        required = ["exp"] if settings.require_exp else []
        required += [c for c, v in (("aud", settings.audience), ("iss", settings.issuer)) if v]
        last: jwt.InvalidTokenError | None = None
        for key in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key.key,
                    algorithms=[key.algorithm],
                    audience=settings.audience,
                    issuer=settings.issuer,
                    leeway=settings.leeway_seconds,
                    options={"require": required, "verify_aud": settings.audience is not None},
                )
            except jwt.InvalidSignatureError as error:
                last = error
                continue
            except jwt.InvalidTokenError as error:
                raise Unauthenticated(f"invalid token: {error}") from None
            break
        else:
            raise Unauthenticated(f"invalid token: {last}")
        role = claims.get(settings.role_claim, settings.default_role)
        if not isinstance(role, str) or not role:
            raise Unauthenticated(f"the token has no {settings.role_claim!r} claim naming a role")
        subject = claims.get(settings.user_id_claim)
        identity = Identity(None if subject is None else str(subject), role, claims, "jwt")
        self._remember(token, identity, claims.get("exp"))
        return identity

    def _remember(self, token: str, identity: Identity, exp: Any) -> None:
        until = self._clock() + _TOKEN_CACHE_SECONDS
        if isinstance(exp, int | float):
            until = min(until, exp + self.settings.leeway_seconds)
        verified = self._verified
        if len(verified) >= _TOKEN_CACHE_SIZE:
            del verified[next(iter(verified))]  # the oldest entry
        verified[token] = (identity, until)

    async def _refuse(self, scope: Scope, send: Send, error: Unauthenticated) -> None:
        challenge = f'Bearer realm="{self.settings.realm}"'
        if error.message != _NO_CREDENTIALS:  # RFC 6750: no error code when none were sent
            detail = error.message.replace('"', "'")
            challenge += f', error="invalid_token", error_description="{detail}"'
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": error.message[:120]})
            return
        status, body = problem_for(error)
        await send_json(send, status, body, [(b"www-authenticate", challenge.encode())])


async def send_json(
    send: Send, status: int, body: Mapping[str, Any], headers: Iterable[tuple[bytes, bytes]]
) -> None:
    """Answer with a problem+json ``body`` straight from an ASGI middleware."""
    payload = json.dumps(body).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", MEDIA_TYPE.encode()),
            (b"content-length", str(len(payload)).encode()),
            *headers,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": payload})


def route_path(scope: Scope) -> str:
    """The request's path within this app: without the prefix it is mounted under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] or "/" if root and path.startswith(root) else path


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}
