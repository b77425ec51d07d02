"""Connections for HTTP tasks: what an EventBridge connection is to `arn:aws:states:::http:invoke`.

On AWS an HTTP Task names an EventBridge connection (`Authentication.ConnectionArn` or
`InvocationConfig.ConnectionArn`) that holds the credentials and the extra headers, query
parameters and body fields to send. podium reads them from a file (`--connections FILE`,
or `$PODIUM_CONNECTIONS`), YAML or JSON:

    connections:
      stripe:                        # a connection's name...
        type: API_KEY                # API_KEY | BASIC | OAUTH_CLIENT_CREDENTIALS (or none: no auth)
        parameters: {name: Authorization, value: "Bearer ${STRIPE_KEY}"}
        invocation:                  # EventBridge's InvocationHttpParameters
          headers: {Stripe-Version: "2024-06-20"}
          query: {expand: customer}
          body: {source: podium}
      "arn:aws:events:us-east-1:123456789012:connection/ledger/0b1c":   # ...or an exact ARN
        type: BASIC
        parameters: {username: podium, password: "${LEDGER_PASSWORD}"}
      auth0:
        type: OAUTH_CLIENT_CREDENTIALS
        parameters:
          authorization_endpoint: https://example.auth0.com/oauth/token
          http_method: POST          # GET | POST | PUT (default POST)
          client_id: abc
          client_secret: "${AUTH0_SECRET}"
          body: {audience: https://api.example.com}      # OAuthHttpParameters: headers, query, body

A ConnectionArn `arn:aws:events:REGION:ACCOUNT:connection/NAME/UUID` finds the entry keyed by
that exact ARN (or whose `arn:` field is it), else the entry named NAME, so a definition written
for AWS runs unchanged. `${VAR}` in any string is replaced by the environment variable VAR when
the file is read (an unset one is an error), so that secrets need not sit in the file. Parameter
names may also be given as EventBridge spells them (ApiKeyName, ApiKeyValue, Username, Password,
AuthorizationEndpoint, HttpMethod, ClientID, ClientSecret). Values of invocation parameters are
strings, as in EventBridge (numbers and booleans are written as text).

A connection without `type` adds only its invocation parameters: a podium extension for local
services that need no credentials (EventBridge has no such type).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONNECTIONS_ENV = "PODIUM_CONNECTIONS"
AUTH_TYPES = ("API_KEY", "BASIC", "OAUTH_CLIENT_CREDENTIALS")
OAUTH_METHODS = ("GET", "POST", "PUT")  # EventBridge's OAuth HttpMethod values
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# arn:aws:events:REGION:ACCOUNT:connection/NAME[/UUID]
_CONNECTION_ARN = re.compile(r"^arn:aws[\w-]*:events:[^:]*:[^:]*:connection/([^/]+)(?:/.*)?$")

# Parameter names, normalised (lower case, no "_" or "-") to the field they set: podium's own
# snake_case names and EventBridge's AuthParameters names both land here.
_PARAMETERS: dict[str, dict[str, str]] = {
    "API_KEY": {"name": "name", "apikeyname": "name", "value": "value", "apikeyvalue": "value"},
    "BASIC": {"username": "username", "password": "password"},
    "OAUTH_CLIENT_CREDENTIALS": {
        "authorizationendpoint": "authorization_endpoint",
        "httpmethod": "http_method",
        "method": "http_method",
        "clientid": "client_id",
        "clientsecret": "client_secret",
        "headers": "headers",
        "headerparameters": "headers",
        "query": "query",
        "querystringparameters": "query",
        "body": "body",
        "bodyparameters": "body",
    },
}
_REQUIRED = {
    "API_KEY": ("name", "value"),
    "BASIC": ("username", "password"),
    "OAUTH_CLIENT_CREDENTIALS": ("authorization_endpoint", "client_id", "client_secret"),
}
_INVOCATION = {
    "headers": "headers",
    "headerparameters": "headers",
    "query": "query",
    "querystringparameters": "query",
    "body": "body",
    "bodyparameters": "body",
}


class ConnectionsError(ValueError):
    """A connections file podium cannot use; the message names the file and the entry, never a secret."""


@dataclass(frozen=True)
class OAuthClient:
    """OAUTH_CLIENT_CREDENTIALS: where and how to get an access token."""

    authorization_endpoint: str
    client_id: str
    client_secret: str
    http_method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Connection:
    name: str
    auth_type: str | None = None  # one of AUTH_TYPES; None: invocation parameters only
    api_key_name: str = ""
    api_key_value: str = ""
    username: str = ""
    password: str = ""
    oauth: OAuthClient | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show a secret in a log or a traceback
        return f"Connection(name={self.name!r}, auth_type={self.auth_type!r})"


class Connections:
    """The configured connections, found by ConnectionArn."""

    def __init__(
        self, by_arn: Mapping[str, Connection] | None = None, by_name: Mapping[str, Connection] | None = None
    ) -> None:
        self._by_arn = dict(by_arn or {})
        self._by_name = dict(by_name or {})

    def __bool__(self) -> bool:
        return bool(self._by_arn or self._by_name)

    def lookup(self, connection_arn: str) -> Connection | None:
        found = self._by_arn.get(connection_arn)
        if found is not None:
            return found
        name = connection_name(connection_arn)
        return self._by_name.get(name) if name is not None else None


def connection_name(connection_arn: str) -> str | None:
    """NAME in `arn:aws:events:REGION:ACCOUNT:connection/NAME/UUID`; a bare name is its own name."""
    m = _CONNECTION_ARN.match(connection_arn)
    if m:
        return m.group(1)
    if connection_arn and not connection_arn.startswith("arn:") and "/" not in connection_arn:
        return connection_arn
    return None


def load_connections(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Connections:
    """Read a connections file (YAML or JSON); raises ConnectionsError naming what is wrong."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConnectionsError(f"no such connections file: {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConnectionsError(f"cannot read connections file {source}: {exc}") from None
    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise ConnectionsError(f"{source} is not valid YAML or JSON: {exc}") from None
    return parse_connections(data, source=source, env=os.environ if env is None else env)


def parse_connections(
    data: Any, *, source: str = "connections", env: Mapping[str, str] | None = None
) -> Connections:
    if data is None:
        return Connections()
    if isinstance(data, dict) and set(data) == {"connections"}:
        data = data["connections"]
    if data is None:
        return Connections()
    if not isinstance(data, dict):
        raise ConnectionsError(f"{source}: expected a mapping of connection names (or ARNs) to connections")
    environment = os.environ if env is None else env
    by_arn: dict[str, Connection] = {}
    by_name: dict[str, Connection] = {}
    for key, spec in data.items():
        where = f"{source}: connection {key!r}"
        if not isinstance(key, str) or not key:
            raise ConnectionsError(
                f"{source}: a connection's key must be a non-empty name or ARN, not {key!r}"
            )
        if not isinstance(spec, dict):
            raise ConnectionsError(f"{where}: expected a mapping (type, parameters, invocation)")
        spec = _expand(spec, environment, where)
        name = connection_name(key)
        if name is None:
            raise ConnectionsError(
                f"{where}: a key is a connection name or an EventBridge connection ARN "
                "(arn:aws:events:REGION:ACCOUNT:connection/NAME/ID)"
            )
        connection = _connection(name, spec, where)
        arns = [key] if key.startswith("arn:") else []
        extra = spec.get("arn")
        if extra is not None:
            if not isinstance(extra, str) or connection_name(extra) is None or not extra.startswith("arn:"):
                raise ConnectionsError(f"{where}: 'arn' must be an EventBridge connection ARN")
            arns.append(extra)
        for arn in arns:
            if arn in by_arn:
                raise ConnectionsError(f"{where}: the ARN {arn} is configured twice")
            by_arn[arn] = connection
        if not key.startswith("arn:"):
            by_name[name] = connection
    return Connections(by_arn, by_name)


def _connection(name: str, spec: dict[str, Any], where: str) -> Connection:
    unknown = sorted(set(spec) - {"type", "parameters", "invocation", "arn"})
    if unknown:
        raise ConnectionsError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))} "
            "(expected type, parameters, invocation, arn)"
        )
    auth_type = spec.get("type")
    if auth_type is not None and auth_type not in AUTH_TYPES:
        raise ConnectionsError(f"{where}: type must be one of {', '.join(AUTH_TYPES)}, not {auth_type!r}")
    invocation = _named_fields(spec.get("invocation") or {}, _INVOCATION, f"{where}: invocation")
    headers = _string_map(invocation.get("headers"), f"{where}: invocation headers")
    query = _string_map(invocation.get("query"), f"{where}: invocation query")
    body = _string_map(invocation.get("body"), f"{where}: invocation body")
    raw_parameters = spec.get("parameters") or {}
    if auth_type is None:
        if raw_parameters:
            raise ConnectionsError(f"{where}: parameters need a type ({', '.join(AUTH_TYPES)})")
        return Connection(name, None, headers=headers, query=query, body=body)
    params = _named_fields(raw_parameters, _PARAMETERS[auth_type], f"{where}: parameters")
    missing = [p for p in _REQUIRED[auth_type] if not params.get(p)]
    if missing:
        raise ConnectionsError(f"{where}: a {auth_type} connection needs parameters {', '.join(missing)}")
    if auth_type == "API_KEY":
        return Connection(
            name,
            auth_type,
            api_key_name=_text(params["name"], f"{where}: parameters name"),
            api_key_value=_text(params["value"], f"{where}: parameters value"),
            headers=headers,
            query=query,
            body=body,
        )
    if auth_type == "BASIC":
        return Connection(
            name,
            auth_type,
            username=_text(params["username"], f"{where}: parameters username"),
            password=_text(params["password"], f"{where}: parameters password"),
            headers=headers,
            query=query,
            body=body,
        )
    method = str(params.get("http_method") or "POST").upper()
    if method not in OAUTH_METHODS:
        raise ConnectionsError(f"{where}: http_method must be one of {', '.join(OAUTH_METHODS)}")
    endpoint = _text(params["authorization_endpoint"], f"{where}: parameters authorization_endpoint")
    if not endpoint.startswith(("https://", "http://")):
        raise ConnectionsError(f"{where}: authorization_endpoint must be an http(s) URL")
    oauth = OAuthClient(
        authorization_endpoint=endpoint,
        client_id=_text(params["client_id"], f"{where}: parameters client_id"),
        client_secret=_text(params["client_secret"], f"{where}: parameters client_secret"),
        http_method=method,
        headers=_string_map(params.get("headers"), f"{where}: parameters headers"),
        query=_string_map(params.get("query"), f"{where}: parameters query"),
        body=_string_map(params.get("body"), f"{where}: parameters body"),
    )
    return Connection(name, auth_type, oauth=oauth, headers=headers, query=query, body=body)


def _named_fields(value: Any, names: Mapping[str, str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConnectionsError(f"{where}: expected a mapping")
    out: dict[str, Any] = {}
    for key, item in value.items():
        normal = re.sub(r"[_\-]", "", str(key)).lower()
        target = names.get(normal)
        if target is None:
            expected = sorted({v for v in names.values()})
            raise ConnectionsError(f"{where}: unknown field {key!r} (expected {', '.join(expected)})")
        out[target] = item
    return out


def _string_map(value: Any, where: str) -> dict[str, str]:
    """Key/value parameters: a mapping, or EventBridge's list of {Key, Value[, IsValueSecret]}."""
    if value is None:
        return {}
    if isinstance(value, list):
        pairs: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, dict) or "Key" not in item or "Value" not in item:
                raise ConnectionsError(f"{where}: a list holds {{Key: ..., Value: ...}} items")
            pairs[str(item["Key"])] = item["Value"]
        value = pairs
    if not isinstance(value, dict):
        raise ConnectionsError(f"{where}: expected a mapping of names to values")
    return {str(k): _text(v, f"{where}: {k}") for k, v in value.items()}


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConnectionsError(f"{where}: expected a string")


def _expand(value: Any, env: Mapping[str, str], where: str) -> Any:
    """Replace ${VAR} in every string by the environment's value."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in env:
                raise ConnectionsError(f"{where}: environment variable {name} is not set")
            return env[name]

        return _ENV_REFERENCE.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, where) for v in value]
    return value
