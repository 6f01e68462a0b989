"""The API's authentication (JWT bearer tokens, API keys, anonymous access) and role rules.

Most tests run a tiny Starlette app behind ``AuthMiddleware`` in process; the end-to-end test
goes through ``create_app`` on the blog schema, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import http.server as http_server
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from datatier.api._auth import (
    ApiKey,
    AuthMiddleware,
    AuthSettings,
    Identity,
    authorize,
    hash_api_key,
    operation_kind,
)
from datatier.errors import ConfigError, Forbidden
from tests.harness.backends import Backend

SECRET = "s3cret-for-tests-only-0123456789abcdef"
PEPPER = "pepper-for-tests"
AUDIENCE = "datatier-api"
ISSUER = "https://issuer.test"
BLOG = Path(__file__).parent / "conformance" / "schemas" / "shared" / "blog.prisma"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "user-1",
        "role": "reader",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def settings_for(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey, **overrides: Any
) -> AuthSettings:
    values: dict[str, Any] = {
        "jwt_secret": SECRET,
        "jwt_public_keys": (public_pem(rsa_key), public_pem(ec_key)),
        "audience": AUDIENCE,
        "issuer": ISSUER,
        "leeway_seconds": 0,
        "api_keys": (
            ApiKey("ci-bot", hash_api_key("key-live-123", PEPPER), "writer"),
            ApiKey("old-bot", hash_api_key("key-revoked-456", PEPPER), "writer", revoked=True),
        ),
        "api_key_pepper": PEPPER,
        "rules": {"admin": {"*": "*"}, "reader": {"post": ["read"]}},
    }
    values.update(overrides)
    return AuthSettings(**values)


async def whoami(request: Request) -> JSONResponse:
    identity: Identity | None = request.state.identity
    if identity is None:
        return JSONResponse(None)
    return JSONResponse(
        {"user_id": identity.user_id, "role": identity.role, "via": identity.method}
    )


def tiny_app(settings: AuthSettings) -> Starlette:
    app = Starlette(routes=[Route("/whoami", whoami), Route("/healthz", whoami)])
    app.add_middleware(AuthMiddleware, settings=settings)
    return app


@pytest.fixture
async def http(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> AsyncIterator[httpx.AsyncClient]:
    app = tiny_app(settings_for(rsa_key, ec_key))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_401(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert body["status"] == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="datatier"')
    for word in words:
        assert word.lower() in body["detail"].lower(), body["detail"]


# -- valid tokens --------------------------------------------------------------------


async def test_hs256_token_gives_identity(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    response = await http.get("/whoami", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"user_id": "user-1", "role": "reader", "via": "jwt"}


async def test_rs256_token_gives_identity(
    http: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(sub="u-rs", role="admin"), rsa_key, algorithm="RS256")
    response = await http.get("/whoami", headers=bearer(token))
    assert response.json() == {"user_id": "u-rs", "role": "admin", "via": "jwt"}


async def test_es256_token_gives_identity(
    http: httpx.AsyncClient, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    token = jwt.encode(claims(sub="u-es"), ec_key, algorithm="ES256")
    response = await http.get("/whoami", headers=bearer(token))
    assert response.json() == {"user_id": "u-es", "role": "reader", "via": "jwt"}


# -- rejected tokens -----------------------------------------------------------------


async def test_expired_token(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")
    response = await http.get("/whoami", headers=bearer(token))
    assert_401(response, "expired")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_not_yet_valid(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(nbf=int(time.time()) + 120), SECRET, algorithm="HS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), "not yet valid")


async def test_token_without_exp_is_refused(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(exp=None), SECRET, algorithm="HS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), "exp")


async def test_wrong_signature(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), "another-secret-of-enough-length-0123456789", algorithm="HS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), "Signature")


async def test_rs256_signed_by_another_key(http: httpx.AsyncClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), other, algorithm="RS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), "Signature")


async def test_tampered_payload(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    head, _, sig = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims(role="admin")).encode()).rstrip(b"=")
    forged = f"{head}.{payload.decode()}.{sig}"
    assert_401(await http.get("/whoami", headers=bearer(forged)), "Signature")


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [("aud", "someone-else", "audience"), ("iss", "https://evil.test", "issuer")],
)
async def test_wrong_audience_or_issuer(
    http: httpx.AsyncClient, field: str, value: str, word: str
) -> None:
    token = jwt.encode(claims(**{field: value}), SECRET, algorithm="HS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), word)


@pytest.mark.parametrize("field", ["aud", "iss"])
async def test_missing_audience_or_issuer(http: httpx.AsyncClient, field: str) -> None:
    token = jwt.encode(claims(**{field: None}), SECRET, algorithm="HS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), field)


async def test_alg_none_is_refused(http: httpx.AsyncClient) -> None:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    for alg in ("none", "None", "NONE"):
        token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims(role='admin'))}."
        assert_401(await http.get("/whoami", headers=bearer(token)), "not accepted")


async def test_hs_rs_confusion_is_refused(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    # An attacker who knows the RSA public key signs an HS256 token with its PEM as the secret.
    pem = public_pem(rsa_key).encode()
    forged = jwt.api_jws.PyJWS(algorithms=["HS256"])
    forged._algorithms["HS256"].prepare_key = lambda key: key  # type: ignore[method-assign]
    payload = json.dumps(claims(role="admin")).encode()
    token = forged.encode(payload, pem, algorithm="HS256")
    # Whether or not an HS256 secret is configured, the RSA key never verifies HS256.
    for settings in (
        settings_for(rsa_key, ec_key),
        settings_for(rsa_key, ec_key, jwt_secret=None),
    ):
        app = tiny_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/whoami", headers=bearer(token))
        assert_401(response)
        assert response.json()["detail"] in {
            "invalid token: Signature verification failed",
            "tokens signed with 'HS256' are not accepted",
        }


async def test_rs256_header_on_an_hs256_signature_is_refused(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    head = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode()
    forged = head + token[token.index(".") :]
    assert_401(await http.get("/whoami", headers=bearer(forged)))


async def test_token_without_role(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(role=None), SECRET, algorithm="HS256")
    assert_401(await http.get("/whoami", headers=bearer(token)), "'role'")


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "Bearer abc"],
)
async def test_malformed_authorization(http: httpx.AsyncClient, header: str) -> None:
    assert_401(await http.get("/whoami", headers={"Authorization": header}))


async def test_verified_tokens_are_cached_until_they_expire(
    monkeypatch: pytest.MonkeyPatch, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    calls: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    now = [time.time()]
    app = Starlette(routes=[Route("/whoami", whoami)])
    app.add_middleware(AuthMiddleware, settings=settings_for(rsa_key, ec_key), clock=lambda: now[0])
    exp = int(now[0]) + 300
    token = jwt.encode(claims(exp=exp), SECRET, algorithm="HS256")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(3):
            assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
        assert len(calls) == 1
        # A tampered copy of a cached token is no cache hit.
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert_401(await client.get("/whoami", headers=bearer(forged)))
        assert len(calls) == 2
        # Past the cache's 60 s (or the token's exp), the token is verified again.
        now[0] += 61
        assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
        assert len(calls) == 3
        short = jwt.encode(claims(exp=int(now[0]) + 30), SECRET, algorithm="HS256")
        assert (await client.get("/whoami", headers=bearer(short))).status_code == 200
        assert (await client.get("/whoami", headers=bearer(short))).status_code == 200
        assert len(calls) == 4
        now[0] += 31  # past this token's exp, within the cache's 60 s: verified again
        await client.get("/whoami", headers=bearer(short))
        assert len(calls) == 5


# -- API keys ------------------------------------------------------------------------


async def test_api_key_gives_identity(http: httpx.AsyncClient) -> None:
    response = await http.get("/whoami", headers={"X-API-Key": "key-live-123"})
    assert response.json() == {"user_id": "ci-bot", "role": "writer", "via": "api_key"}


async def test_revoked_api_key(http: httpx.AsyncClient) -> None:
    response = await http.get("/whoami", headers={"X-API-Key": "key-revoked-456"})
    assert_401(response, "revoked", "old-bot")


async def test_unknown_api_key(http: httpx.AsyncClient) -> None:
    assert_401(await http.get("/whoami", headers={"X-API-Key": "key-live-12"}), "unknown API key")
    # The stored hash itself is not a key.
    stored = hash_api_key("key-live-123", PEPPER)
    assert_401(await http.get("/whoami", headers={"X-API-Key": stored}), "unknown API key")


async def test_both_credentials_are_refused(http: httpx.AsyncClient) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    response = await http.get("/whoami", headers={**bearer(token), "X-API-Key": "key-live-123"})
    assert_401(response, "not both")


# -- anonymous access ----------------------------------------------------------------


async def test_anonymous_is_off_by_default(http: httpx.AsyncClient) -> None:
    response = await http.get("/whoami")
    assert_401(response, "needs credentials")
    # RFC 6750: a request without credentials gets a challenge with no error code.
    assert response.headers["www-authenticate"] == 'Bearer realm="datatier"'
    assert AuthSettings().anonymous_role is None


async def test_anonymous_role_when_configured(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    app = tiny_app(settings_for(rsa_key, ec_key, anonymous_role="guest"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/whoami")
        assert response.json() == {"user_id": None, "role": "guest", "via": "anonymous"}
        # Bad credentials are still refused rather than downgraded to anonymous.
        assert_401(await client.get("/whoami", headers={"X-API-Key": "nope"}))


async def test_health_paths_need_no_credentials(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() is None


async def test_mounted_under_a_prefix(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    from starlette.routing import Mount

    parent = Starlette(routes=[Mount("/api", app=tiny_app(settings_for(rsa_key, ec_key)))])
    transport = httpx.ASGITransport(app=parent)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/healthz")).status_code == 200
        assert_401(await client.get("/api/whoami"))
        token = jwt.encode(claims(), SECRET, algorithm="HS256")
        assert (await client.get("/api/whoami", headers=bearer(token))).status_code == 200


# -- JWKS ----------------------------------------------------------------------------


@pytest.fixture
def jwks_server(rsa_key: rsa.RSAPrivateKey) -> Iterator[tuple[str, list[int]]]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    yield from serve_jwks(json.dumps({"keys": [jwk]}).encode())


def serve_jwks(body: bytes) -> Iterator[tuple[str, list[int]]]:
    hits: list[int] = []

    class Handler(http_server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http_server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", hits
    finally:
        server.shutdown()
        server.server_close()


async def test_jwks_keys_are_fetched_once_and_cached(
    jwks_server: tuple[str, list[int]], rsa_key: rsa.RSAPrivateKey
) -> None:
    url, hits = jwks_server
    settings = AuthSettings(jwks_url=url, audience=AUDIENCE, issuer=ISSUER)
    app = tiny_app(settings)
    good = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "k1"})
    hs = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for _ in range(3):
            response = await client.get("/whoami", headers=bearer(good))
            assert response.json()["user_id"] == "user-1"
        assert_401(await client.get("/whoami", headers=bearer(bad)), "Signature")
        assert_401(await client.get("/whoami", headers=bearer(hs)), "not accepted")
    assert len(hits) == 1


async def test_jwks_unreachable_is_503_and_not_refetched_per_request(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    for url, hits in serve_jwks(b"<html>not a key set</html>"):
        app = tiny_app(AuthSettings(jwks_url=url, audience=AUDIENCE, issuer=ISSUER))
        token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(3):
                response = await client.get("/whoami", headers=bearer(token))
                assert response.status_code == 503
                assert response.json()["code"] == "auth_unavailable"
                assert response.headers["retry-after"] == "10"
        assert len(hits) == 1


# -- authorize -----------------------------------------------------------------------


def test_operation_kinds() -> None:
    assert operation_kind("findMany") == ("read",)
    assert operation_kind("find_unique_or_raise") == ("read",)
    assert operation_kind("groupBy") == ("read",)
    assert operation_kind("createMany") == ("create",)
    assert operation_kind("upsert") == ("create", "update")
    assert operation_kind("deleteMany") == ("delete",)
    assert operation_kind("executeRaw") == ()


def test_authorize_rules() -> None:
    settings = AuthSettings(
        rules={
            "admin": {"*": "*"},
            "reader": {"post": ["read"], "Comment": "read"},
            "editor": {"post": ["read", "create", "update"]},
        }
    )
    admin = Identity("a", "admin")
    reader = Identity("r", "reader")
    editor = Identity("e", "editor")
    for model, op in [("post", "deleteMany"), ("User", "create"), ("comment", "upsert")]:
        authorize(admin, model, op, settings)
    authorize(reader, "post", "findMany", settings)
    authorize(reader, "Post", "count", settings)
    authorize(reader, "comment", "findFirst", settings)
    authorize(editor, "post", "upsert", settings)
    refused = [
        (reader, "post", "create"),
        (reader, "user", "findMany"),
        (editor, "post", "delete"),
        (Identity("x", "nobody"), "post", "findMany"),
        (admin, "post", "executeRaw"),
    ]
    for identity, model, op in refused:
        with pytest.raises(Forbidden) as caught:
            authorize(identity, model, op, settings)
        assert caught.value.code == "forbidden"
        assert caught.value.role == identity.role
    with pytest.raises(Forbidden, match="may not create post"):
        authorize(reader, "post", "create", settings)
    with pytest.raises(Forbidden, match="no identity"):
        authorize(None, "post", "findMany", settings)
    # Auth off: nothing is checked.
    authorize(None, "post", "deleteMany", None)


# -- configuration errors ------------------------------------------------------------


def test_bad_settings_are_clear_errors(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        AuthSettings(jwt_secret="short")
    with pytest.raises(ConfigError, match="unknown operation kind 'write'"):
        AuthSettings(rules={"reader": {"post": ["write"]}})
    with pytest.raises(ConfigError, match="not a PEM public key"):
        AuthSettings(jwt_public_keys=("-----BEGIN PUBLIC KEY-----\nnope\n",))
    with pytest.raises(ConfigError, match="api_key_pepper"):
        AuthSettings(api_keys=(ApiKey("a", "0" * 64, "r"),))
    with pytest.raises(ConfigError, match="64 hex digits"):
        AuthSettings(api_keys=(ApiKey("a", "plain-key", "r"),), api_key_pepper=PEPPER)
    with pytest.raises(ConfigError, match="unknown key"):
        AuthSettings.from_config({"secret": "x"}, env={})
    with pytest.raises(ConfigError, match="jwks_url needs audience and issuer"):
        AuthSettings(jwks_url="https://idp.example/jwks.json", issuer=ISSUER)
    with pytest.raises(ConfigError, match="a kind or a list of kinds"):
        AuthSettings(rules={"reader": {"post": 3}})  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="must map models"):
        AuthSettings(rules={"reader": ["post"]})  # type: ignore[dict-item]
    # Secrets stay out of reprs (and so out of logs and tracebacks).
    shown = repr(AuthSettings(jwt_secret=SECRET, api_key_pepper=PEPPER))
    assert SECRET not in shown and PEPPER not in shown


def test_rules_must_name_models_of_the_schema() -> None:
    settings = AuthSettings(rules={"reader": {"post": "read", "OrderItem": "*", "*": ["read"]}})
    settings.check_models(["Post", "OrderItem", "User"])
    with pytest.raises(ConfigError, match=r"names model 'posts'.*did you mean 'post'"):
        AuthSettings(rules={"reader": {"posts": "read"}}).check_models(["Post", "User"])


def test_settings_from_config_take_secrets_from_env(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = tmp_path / "jwt.pem"
    pem.write_text(public_pem(rsa_key))
    settings = AuthSettings.from_config(
        {
            "jwt_public_key_files": [str(pem)],
            "audience": AUDIENCE,
            "api_keys": [{"id": "ci", "hash": hash_api_key("k", PEPPER), "role": "writer"}],
            "rules": {"writer": {"post": "*"}},
        },
        env={"DATATIER_JWT_SECRET": SECRET, "DATATIER_API_KEY_PEPPER": PEPPER},
    )
    assert settings.jwt_secret == SECRET
    assert settings.find_api_key("k") == ApiKey("ci", hash_api_key("k", PEPPER), "writer")
    assert settings.allows("writer", "Post", "delete")
    assert not settings.allows("writer", "user", "read")
    with pytest.raises(ConfigError, match=r"missing\.pem"):
        AuthSettings.from_config({"jwt_public_key_files": [str(tmp_path / "missing.pem")]}, env={})


# -- end to end through create_app ---------------------------------------------------


async def test_end_to_end_through_create_app(
    sql_backend: Backend, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    create_app = pytest.importorskip("datatier.api._app").create_app
    from datatier import Client, load_schema
    from datatier.api._settings import ApiSettings
    from datatier.migrate import push

    schema = load_schema(BLOG)
    push(schema, sql_backend.url)
    db = Client(schema=schema, url=sql_backend.url)
    settings = ApiSettings(auth=settings_for(rsa_key, ec_key))
    app = create_app(db, settings)
    reader = bearer(jwt.encode(claims(), SECRET, algorithm="HS256"))
    admin = bearer(jwt.encode(claims(role="admin"), rsa_key, algorithm="RS256"))
    try:
        # The app's answer is what counts, whichever middleware layer turned the error into it.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert_401(await client.get("/rest/post"))
            ok = await client.get("/rest/post", headers=reader)
            assert ok.status_code == 200, ok.text
            denied = await client.get("/rest/user", headers=reader)
            assert denied.status_code == 403, denied.text
            assert denied.json()["code"] == "forbidden"
            assert (await client.get("/rest/user", headers=admin)).status_code == 200
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await db.close()


def test_docs_example_runs() -> None:
    import re
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "api-auth.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    result = subprocess.run(
        [sys.executable, "-c", blocks[0]],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["401", "unauthenticated", "200", "403", "forbidden", "200"]


SERVER = """
import sys, uvicorn
from datatier import Client
from datatier.api._app import create_app
from datatier.api._auth import ApiKey, AuthSettings, hash_api_key
from datatier.api._ratelimit import RateLimitSettings
from datatier.api._settings import ApiSettings

schema, url, port, secret, pepper = sys.argv[1:6]
auth = AuthSettings(
    jwt_secret=secret,
    audience="datatier-api",
    issuer="https://issuer.test",
    api_keys=(ApiKey("ci-bot", hash_api_key("key-live-123", pepper), "admin"),),
    api_key_pepper=pepper,
    rules={"admin": {"*": "*"}, "reader": {"post": ["read"]}},
)
limits = RateLimitSettings.from_config({"per_identity": "3/hour", "per_ip": "100/hour"})
app = create_app(Client(schema, url), ApiSettings(auth=auth, rate_limit=limits), close_client=True)
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
"""


async def test_through_a_real_server_process(sql_backend: Backend) -> None:
    import os
    import socket
    import subprocess
    import sys

    from datatier import load_schema
    from datatier.migrate import push

    push(load_schema(BLOG), sql_backend.url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    args = [str(BLOG), sql_backend.url, str(port), SECRET, PEPPER]
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    reader = bearer(jwt.encode(claims(), SECRET, algorithm="HS256"))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.1)
            assert_401(await http.get("/rest/post"))
            first = await http.get("/rest/post", headers=reader)
            assert first.status_code == 200, first.text
            assert first.headers["ratelimit-limit"] == "3"
            assert first.headers["ratelimit-remaining"] == "2"
            denied = await http.post("/rpc/post/deleteMany", json={}, headers=reader)
            assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
            assert (await http.get("/rest/post", headers=reader)).status_code == 200
            limited = await http.get("/rest/post", headers=reader)
            assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
            assert int(limited.headers["retry-after"]) > 0
            # Another identity has its own budget.
            admin = await http.get("/rest/user", headers={"X-API-Key": "key-live-123"})
            assert admin.status_code == 200, admin.text
            assert admin.headers["ratelimit-remaining"] == "2"
    finally:
        process.terminate()
        process.wait(10)


def test_create_app_refuses_rules_for_unknown_models(tmp_path: Path) -> None:
    create_app = pytest.importorskip("datatier.api._app").create_app
    from datatier import Client, load_schema
    from datatier.api._settings import ApiSettings

    db = Client(schema=load_schema(BLOG), url=f"file:{tmp_path}/x.db")
    auth = AuthSettings(rules={"reader": {"Posts": ["read"]}})
    with pytest.raises(ConfigError, match="did you mean 'post'"):
        create_app(db, ApiSettings(auth=auth))


async def test_websocket_without_credentials_is_closed(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    reached: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["state"]["identity"].role)

    middleware = AuthMiddleware(inner, settings_for(rsa_key, ec_key))

    async def connect(headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        scope = {"type": "websocket", "path": "/ws", "root_path": "", "headers": headers}

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: Any) -> None:
            sent.append(message)

        await middleware(scope, receive, send)
        return sent

    refused = await connect([])
    assert refused == [{"type": "websocket.close", "code": 1008, "reason": refused[0]["reason"]}]
    assert "credentials" in refused[0]["reason"]
    assert reached == []
    assert await connect([(b"x-api-key", b"key-live-123")]) == []
    assert reached == ["writer"]
