"""This node as an OpenID Connect provider for its own staff, so that they can sign in at peer
municipalities (Authlib's authorization server; the routes are in auth/provider_routes.py).

Only active peers are clients. A peer's client_id is its node URL and its one redirect URI is fixed
(auth/sign_on.py). The flow is the authorization code flow with PKCE S256 and a nonce, always; the
answer carries RFC 9207's `iss`. A code is good once, for CODE_SECONDS. At the token endpoint the peer
proves who it is with a JWT signed by its federation key (`private_key_jwt`), and gets an ID token signed
with this node's federation key, telling the person's name, job title, department and municipality;
never their e-mail, phone, roles or any national id.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (AccessDeniedError, ClientMixin, InvalidClientError, InvalidGrantError,
                                    InvalidRequestError, OAuth2Error, UnauthorizedClientError)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode
from flask import Flask, Response, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import delete, exists, select, update

from auth.models import AuthorizationCode, Consent, User
from auth import audit
from auth.sign_on import (ALGORITHM, AUTHORIZE_PATH, CALLBACK_PATH, JWKS_PATH, TOKEN_PATH, NodeKey, PeerNode,
                          federation, own_url, peer)
from knet.db import as_utc, db, utcnow

logger = logging.getLogger(__name__)

EXTENSION = "knet.provider"
SCOPE = "openid"
#: How long a code may wait for its exchange.
CODE_SECONDS = 60
#: How long an ID token is good for: the peer reads it at once, when the person arrives.
ID_TOKEN_SECONDS = 300
#: Codes are kept this long after they expire, so that a late or repeated exchange is told what happened.
CODES_KEPT = timedelta(hours=1)
MAX_NONCE = 200
#: How peers authenticate at the token endpoint: a JWT signed with their federation key.
AUTH_METHOD = "private_key_jwt"


class RedirectUriRefused(InvalidRequestError):
    """The redirect URI is not the one registered for the peer (never redirected to)."""

    field = "redirect_uri"


@dataclass(frozen=True)
class PeerClient(ClientMixin):
    """A peer as an OAuth client: authorization code, PKCE and private_key_jwt, nothing else."""

    node: PeerNode

    def get_client_id(self) -> str:
        return self.node.url

    def get_default_redirect_uri(self) -> None:
        return None  # OpenID Connect requires the redirect URI in every request

    def get_allowed_scope(self, scope: str | None) -> str | None:
        return SCOPE if scope and SCOPE in scope.split() else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.node.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # no shared secrets between municipalities

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == AUTH_METHOD

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class IssuedCode:
    """A stored code as Authlib reads it."""

    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method

    def get_nonce(self) -> str:
        return self.row.nonce

    def get_auth_time(self) -> int | None:
        signed_in = self.row.user.last_sign_in_at
        return int(as_utc(signed_in).timestamp()) if signed_in else None

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


def require_active(client: PeerClient) -> None:
    """A pending or suspended peer is refused, with a sentence saying why."""
    # Descriptions go back to the peer in the redirect or JSON, where OAuth allows ASCII only: no names or URLs.
    if client.node.state == "suspended":
        raise UnauthorizedClientError("This node has suspended its agreement with the client: nobody signs in "
                                      "there through this node until it is resumed.")
    if not client.node.active:
        raise UnauthorizedClientError("The agreement between this node and the client is pending: it becomes "
                                      "active once both administrators have added each other.")


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [AUTH_METHOD]

    def validate_authorization_request(self):
        client = query_client(self.request.payload.client_id or "")
        if client is not None:
            require_active(client)
        redirect_uri = super().validate_authorization_request()
        if not self.request.payload.state:
            raise InvalidRequestError("Missing 'state' in request.", redirect_uri=redirect_uri)
        if len(self.request.payload.data.get("nonce") or "") > MAX_NONCE:
            raise InvalidRequestError(f"The 'nonce' is longer than {MAX_NONCE} characters.",
                                      redirect_uri=redirect_uri, state=self.request.payload.state)
        return redirect_uri

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        uri = request.payload.redirect_uri
        if not uri:
            raise RedirectUriRefused("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(uri):
            raise RedirectUriRefused(f"The redirect URI is not the one registered for the client, which is its "
                                     f"address followed by {CALLBACK_PATH}.")
        return uri

    def save_authorization_code(self, code: str, request) -> None:
        now = utcnow()
        db.session.execute(delete(AuthorizationCode).where(AuthorizationCode.expires_at < now - CODES_KEPT))
        payload = request.payload.data
        db.session.add(AuthorizationCode(
            digest=_digest(code), client_id=request.client.get_client_id(), redirect_uri=request.payload.redirect_uri,
            scope=request.scope, nonce=payload.get("nonce", ""), code_challenge=payload.get("code_challenge", ""),
            code_challenge_method=payload.get("code_challenge_method", ""), user_id=request.user.id,
            created_at=now, expires_at=now + timedelta(seconds=CODE_SECONDS)))
        db.session.flush()

    def query_authorization_code(self, code: str, client: PeerClient) -> IssuedCode | None:
        row = db.session.scalar(select(AuthorizationCode).where(AuthorizationCode.digest == _digest(code),
                                                                AuthorizationCode.client_id == client.node.url))
        if row is None:
            return None
        if row.used_at is not None:
            raise InvalidGrantError("This code was already exchanged: a code is good once.")
        if as_utc(row.expires_at) <= utcnow():
            raise InvalidGrantError(f"This code expired: a code must be exchanged within {CODE_SECONDS} seconds.")
        return IssuedCode(row)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        # One UPDATE that only an unused code passes: of two exchanges at once, one gets the token.
        used = db.session.execute(update(AuthorizationCode)
                                  .where(AuthorizationCode.id == authorization_code.row.id,
                                         AuthorizationCode.used_at.is_(None))
                                  .values(used_at=utcnow()).execution_options(synchronize_session=False))
        if used.rowcount != 1:
            raise InvalidGrantError("This code was already exchanged: a code is good once.")

    def authenticate_user(self, authorization_code: IssuedCode) -> User | None:
        user = authorization_code.row.user
        return user if user.active and not user.is_visitor else None


class S256Challenge(CodeChallenge):
    """PKCE for every client, and only with S256 (a `plain` challenge is the verifier itself)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if payload.get("code_challenge_method") != "S256":
            raise InvalidRequestError("The 'code_challenge_method' must be S256; plain is not accepted.")
        super().validate_code_challenge(grant, redirect_uri)


class IdTokens(OpenIDCode):
    """ID tokens signed with this node's federation key, with the claims a peer may learn."""

    def exists_nonce(self, nonce: str, request) -> bool:
        return bool(db.session.scalar(select(exists().where(
            AuthorizationCode.client_id == request.payload.client_id, AuthorizationCode.nonce == nonce))))

    def resolve_client_private_key(self, client: PeerClient) -> OKPKey:
        return OKPKey.import_key(_signing_key().private_key)

    def get_client_algorithm(self, client: PeerClient) -> str:
        return ALGORITHM

    def get_encode_header(self, client: PeerClient) -> dict:
        return {"alg": ALGORITHM, "kid": _signing_key().id, "typ": "JWT"}

    def get_client_claims(self, client: PeerClient) -> dict:
        return {"iss": own_url(), "aud": client.get_client_id(), "exp": int(time.time()) + ID_TOKEN_SECONDS}

    def generate_user_info(self, user: User, scope: str) -> dict:
        return claims_of(user)


def claims_of(user: User) -> dict:
    """What a peer learns about a person: who they are at home, never how to reach them or their roles."""
    return {"sub": str(user.id), "preferred_username": user.username, "name": user.name,
            "knet:title": user.title, "knet:department": user.department.name if user.department else "",
            "knet:municipality": current_app.config["KNET"]["name"]}


class PeerAssertion(JWTBearerClientAssertion):
    """private_key_jwt: the peer signs the assertion with its federation key, checked against the keys this
    node stored for it when the administrators peered."""

    CLIENT_AUTH_METHOD = AUTH_METHOD

    def get_audiences(self) -> list[str]:
        return [own_url(), own_url() + TOKEN_PATH]

    def resolve_client_public_key(self, client: PeerClient) -> KeySet:
        return KeySet([OKPKey.import_key(key, {"kid": kid}) for kid, key in client.node.keys.items()])

    def process_assertion_claims(self, assertion: str, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise InvalidClientError(description=f"The client assertion is not signed by a valid key of "
                                                 f"this peer ({type(exc).__name__}).") from None
        self.verify_claims(token.claims)
        return token.claims

    def authenticate_client(self, client: PeerClient) -> PeerClient:
        require_active(client)
        return super().authenticate_client(client)


class Issuer(IssuerParameter):
    def get_issuer(self) -> str:
        return own_url()


def init_app(app: Flask) -> None:
    server = AuthorizationServer(app, query_client=query_client, save_token=_keep_no_token)
    server.register_token_generator("default", _access_token)
    server.register_client_auth_method(AUTH_METHOD,
                                       # A replayed assertion is useless: it only goes with a single-use code.
                                       PeerAssertion(validate_jti=False))
    server.register_grant(CodeGrant, [S256Challenge(), IdTokens(require_nonce=True)])
    server.register_extension(Issuer())
    app.extensions[EXTENSION] = server


def server() -> AuthorizationServer:
    return current_app.extensions[EXTENSION]


def query_client(client_id: str) -> PeerClient | None:
    """The peer whose URL is this client_id (whatever the state of its agreement), or None."""
    node = peer(client_id)
    return PeerClient(node) if node is not None else None


def has_consented(user: User, client: PeerClient) -> bool:
    return db.session.get(Consent, (user.id, client.get_client_id())) is not None


def remember_consent(user: User, client: PeerClient) -> None:
    """The person agreed that this peer may learn who they are; next time they are not asked."""
    if not has_consented(user, client):
        db.session.add(Consent(user_id=user.id, client_id=client.get_client_id()))
        db.session.flush()
        logger.info("%s agreed to sign in at %s", user.username, client.get_client_id())


def authorization_response(grant, user: User | None, address: str = "") -> Response:
    """Send the person back to the peer with a code (user given) or with access_denied (None)."""
    if user is not None:
        audit.record("sign_in_at_peer", user.username.casefold(), user=user, address=address,
                     detail=grant.client.get_client_id())
    return server().create_authorization_response(grant_user=user, grant=grant)


def error_response(error: OAuth2Error) -> Response:
    """Send the person back to the peer with this error, its state and our `iss` (the error has a
    validated redirect URI)."""
    response = server().handle_error_response(None, error)
    Issuer().add_issuer_parameter(server(), response)
    return response


def deny(redirect_uri: str, state: str | None, description: str) -> Response:
    return error_response(AccessDeniedError(description, state=state, redirect_uri=redirect_uri))


def jwks() -> dict:
    """This node's public keys that may have signed an ID token still in use, as a JWK set."""
    found = federation()
    keys = found.public_keys() if found is not None else []
    return KeySet([OKPKey.import_key(key.public_key, {"kid": key.id, "use": "sig", "alg": ALGORITHM})
                   for key in keys]).as_dict(private=False)


def metadata() -> dict:
    """OpenID Connect discovery: what this provider does, and where."""
    url = own_url()
    return {
        "issuer": url, "authorization_endpoint": url + AUTHORIZE_PATH, "token_endpoint": url + TOKEN_PATH,
        "jwks_uri": url + JWKS_PATH, "scopes_supported": [SCOPE], "response_types_supported": ["code"],
        "response_modes_supported": ["query"], "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": [AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
        "code_challenge_methods_supported": ["S256"], "authorization_response_iss_parameter_supported": True,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username",
                             "knet:title", "knet:department", "knet:municipality"],
    }


def security_event(audience: str, events: dict) -> str:
    """A Security Event Token (RFC 8417) from this node to the peer at `audience`, about its own staff:
    signed with the key that signs its ID tokens."""
    key = _signing_key()
    claims = {"iss": own_url(), "aud": audience, "iat": int(time.time()), "jti": secrets.token_urlsafe(16),
              "events": events}
    return jwt.encode({"alg": ALGORITHM, "kid": key.id, "typ": "secevent+jwt"}, claims,
                      OKPKey.import_key(key.private_key), algorithms=[ALGORITHM])


def _signing_key() -> NodeKey:
    return federation().signing_key()


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _access_token(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True) -> dict:
    # OAuth requires an access token in the answer; this node serves nothing with it (no userinfo
    # endpoint: the ID token carries the claims), so it is not kept and opens nothing.
    return {"token_type": "Bearer", "access_token": secrets.token_urlsafe(32), "expires_in": ID_TOKEN_SECONDS,
            "scope": scope}


def _keep_no_token(token: dict, request) -> None:
    """Nothing to keep: see _access_token."""
