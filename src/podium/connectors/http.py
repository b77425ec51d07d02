"""HTTP tasks: `arn:aws:states:::http:invoke`, with Step Functions' parameters, results and errors.

Parameters (AWS, "Call HTTPS APIs in Step Functions workflows"):

    ApiEndpoint      the URL (http or https; AWS itself calls https only)
    Method           GET, POST, PUT, DELETE, PATCH, OPTIONS or HEAD
    Authentication / InvocationConfig   {"ConnectionArn": ...}: the connection (podium.connectors.connections)
    Headers          {name: value or [values]}; AWS's forbidden headers fail with States.Runtime
    QueryParameters  {name: value or [values]}, or a query string; appended to the URL, URL-encoded
    RequestBody      JSON (sent as compact JSON, `application/json; charset=UTF-8`) or a string
    Transform        {"RequestBodyEncoding": "NONE" | "URL_ENCODED",
                      "RequestEncodingOptions": {"ArrayFormat": "INDICES" | "REPEAT" | "COMMAS" | "BRACKETS"}}

The connection's headers, query parameters and body fields are merged in, its values winning
on a duplicate key; a string RequestBody cannot take body fields (States.Runtime). Then the
connection's credentials: an API key header, Basic authorization, or an OAuth client-credentials
bearer token (fetched, cached, refetched once on a 401). Step Functions sets User-Agent
(`Amazon|StepFunctions|HttpInvoke|REGION`) and Range (`bytes=0-262144`) itself; so does podium.

The result, as AWS reports it: {"Headers": {lower-case name: [values]}, "ResponseBody": parsed
JSON when the response says it is JSON, else text (absent when empty), "StatusCode": 200,
"StatusText": "OK"}. Failures:

    States.Http.StatusCode.NNN   any status outside 2xx; the cause is the status text, since AWS
                                 discards the body of a failed call. Redirects are not followed
                                 (a 3xx fails too): AWS documents no redirect handling, and
                                 following one would carry the connection's credentials to
                                 another endpoint.
    States.Http.Socket           no answer within 60 s (AWS's fixed limit for HTTP tasks), or
                                 the connection itself failed (refused, reset, DNS, TLS)
    States.Runtime               a bad parameter, a forbidden header, a binary response
                                 (application/octet-stream, image/*, audio/*, video/*) or one
                                 that is not text
    States.DataLimitExceeded     a response body larger than the payload limit
    Events.ConnectionResource.*  ResourceNotFound (no such connection), InvalidConnectionState
                                 (its OAuth token could not be obtained)

A Task's TimeoutSeconds and Retry apply through the core as for any task. When TimeoutSeconds is
shorter than the 60 s limit the request is given up at that time without an answer, so that
the core's own timer reports States.Timeout, as AWS does, rather than racing it with
States.Http.Socket. Requests run on the connector's own threads, never on the engine's.

Where this comes from: the parameters, the forbidden headers, the merge rules, the array
formats, the User-Agent and Range headers, the result's shape, the unsupported responses and
the Events.ConnectionResource.* names are AWS's documentation. The 60 s limit and
States.Http.Socket for it too. Not documented, so chosen here: the status text as the cause of
States.Http.StatusCode.NNN (what users of AWS report), States.Http.Socket for a connection
that fails outright, not following redirects, no ResponseBody for an empty body, the wording
of every cause.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx

from podium.asl.model import JSON
from podium.connectors.base import Reply
from podium.connectors.connections import Connection, Connections, OAuthClient
from podium.core.messages import InvokeTask, Signal, TaskFailed, TaskSucceeded

log = logging.getLogger("podium.http")

HTTP_INVOKE = "arn:aws:states:::http:invoke"
_RESOURCE = re.compile(r"^arn:aws[\w-]*:states:::http:invoke$")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
FIELDS = frozenset(
    {
        "ApiEndpoint",
        "Method",
        "Authentication",
        "InvocationConfig",
        "Headers",
        "QueryParameters",
        "RequestBody",
        "Transform",
    }
)
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
BODY_ENCODINGS = ("NONE", "URL_ENCODED")
# The headers a definition may not set (AWS's list; it fails the task with States.Runtime).
FORBIDDEN_HEADERS = frozenset(
    h.lower()
    for h in (
        "A-IM", "Accept-Charset", "Accept-Datetime", "Accept-Encoding", "Authorization", "Cache-Control",
        "Connection", "Content-Encoding", "Content-MD5", "Date", "Expect", "Forwarded", "From", "Host",
        "HTTP2-Settings", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
        "If-Unmodified-Since", "Max-Forwards", "Origin", "Pragma", "Proxy-Authorization", "Referer",
        "Server", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Via", "Warning",
    )
)  # fmt: skip
FORBIDDEN_PREFIXES = ("x-forwarded-", "x-amz-", "x-amzn-")
REQUEST_LIMIT_SECONDS = 60.0  # "HTTP task requests will timeout after 60 seconds"
DEFAULT_MAX_RESPONSE_BYTES = 262144  # what Step Functions asks for: Range: bytes=0-262144
JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Error names
SOCKET = "States.Http.Socket"
RUNTIME = "States.Runtime"
DATA_LIMIT = "States.DataLimitExceeded"
CONNECTION_NOT_FOUND = "Events.ConnectionResource.ResourceNotFound"
CONNECTION_STATE = "Events.ConnectionResource.InvalidConnectionState"
_CLIENT_DEFAULTS = frozenset({"accept", "accept-encoding", "connection", "user-agent"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP header name (RFC 9110 token)


class HttpTaskError(Exception):
    """The task fails with this error and cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class _DeadlineError(Exception):
    """The request ran past its deadline."""


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP task's request, connection merged in, credentials not yet added."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    connection: Connection | None


@dataclass
class HttpTrace:
    """What an HTTP task sent and what came back, for TestState's inspectionData at TRACE.

    Filled in by HttpConnector.perform as the call goes: `request` before it is sent (so that a
    call that fails to connect still shows it), `response` when the answer is read. Each member
    is in the API's shape (InspectionDataRequest, InspectionDataResponse: strings throughout).
    Unless `reveal_secrets`, what the connection adds (its headers, query parameters, body
    fields and credentials) is left out, as AWS leaves it out; everything from the definition
    and the response is shown.
    """

    reveal_secrets: bool = False
    request: dict[str, str] | None = None
    response: dict[str, str] | None = None


def header_text(headers: Iterable[tuple[str, str]]) -> str:
    """Headers as InspectionData shows them: one string, `[Name: value, Name: value]`."""
    return "[" + ", ".join(f"{name}: {value}" for name, value in headers) + "]"


# --- the request ---------------------------------------------------------------------------


def build_request(payload: JSON, connections: Connections, *, with_connection: bool = True) -> HttpRequest:
    """Check the task's parameters and merge its connection in; raises HttpTaskError.

    `with_connection=False` leaves the connection's headers, query parameters and body out: the
    request as the definition alone describes it, which is what TestState shows of a request
    unless asked to reveal the connection's secrets.
    """
    if not isinstance(payload, dict):
        raise HttpTaskError(RUNTIME, "The parameters of an HTTP Task must be a JSON object.")
    unknown = sorted(set(payload) - FIELDS)
    if unknown:
        raise HttpTaskError(
            RUNTIME,
            f"The field '{unknown[0]}' is not supported by Step Functions for arn:aws:states:::http:invoke "
            f"(supported: {', '.join(sorted(FIELDS))}).",
        )
    method = payload.get("Method")
    if not isinstance(method, str) or method not in METHODS:
        raise HttpTaskError(
            RUNTIME, f"The Method must be one of {', '.join(METHODS)}, not {json.dumps(method)}."
        )
    scheme, netloc, path, existing_query = _endpoint(payload.get("ApiEndpoint"))
    connection = _connection(payload, connections)

    headers = _headers(payload.get("Headers"))
    query = _query(payload.get("QueryParameters"))
    body = payload.get("RequestBody")
    has_body = "RequestBody" in payload and body is not None
    url_encoded, array_format = _transform(payload.get("Transform"))

    if connection is not None and with_connection:
        # The connection's values win on a duplicate key (headers case-insensitively, as HTTP reads them).
        overridden = {name.lower() for name in connection.headers}
        headers = [(k, v) for k, v in headers if k.lower() not in overridden]
        headers.extend(connection.headers.items())
        query = [(k, v) for k, v in query if k not in connection.query]
        query.extend(connection.query.items())
        if connection.body:
            if not has_body:
                body, has_body = {}, True
            if not isinstance(body, dict):
                raise HttpTaskError(
                    RUNTIME,
                    f"The RequestBody cannot be merged with the body parameters of the connection "
                    f"'{connection.name}': only a JSON object can be.",
                )
            body = {**body, **connection.body}

    content: bytes | None = None
    content_type: str | None = None
    if has_body:
        if isinstance(body, str):
            content = body.encode("utf-8")  # a string is the body as it is, encoded or not
        elif url_encoded:
            content = form_encode(body, array_format).encode("ascii")
            content_type = FORM_CONTENT_TYPE
        else:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if content_type is None:
            content_type = FORM_CONTENT_TYPE if url_encoded and isinstance(body, str) else JSON_CONTENT_TYPE
    if content_type is not None and not any(k.lower() == "content-type" for k, _ in headers):
        # AWS sends JSON's content type by default and asks URL_ENCODED users to set theirs;
        # podium sets the form type for them (an API reading the form needs it either way).
        headers.append(("Content-Type", content_type))

    query_text = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)
    full_query = "&".join(q for q in (existing_query, query_text) if q)
    url = urlunsplit((scheme, netloc, path, full_query, ""))
    return HttpRequest(method, url, tuple(headers), content, connection)


def _endpoint(value: Any) -> tuple[str, str, str, str]:
    if not isinstance(value, str) or not value:
        raise HttpTaskError(RUNTIME, "The ApiEndpoint must be a URL string.")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise HttpTaskError(RUNTIME, f"The ApiEndpoint '{value}' is not a valid URL: {exc}.") from None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise HttpTaskError(RUNTIME, f"The ApiEndpoint '{value}' is not an http(s) URL.")
    if parts.username is not None or parts.password is not None:
        raise HttpTaskError(
            RUNTIME, "The ApiEndpoint must not carry credentials: give them to the task's connection."
        )
    return parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query


def _connection(payload: dict[str, Any], connections: Connections) -> Connection:
    given = [key for key in ("Authentication", "InvocationConfig") if key in payload]
    if not given:
        raise HttpTaskError(
            RUNTIME,
            "An HTTP Task needs a connection: "
            "Authentication.ConnectionArn or InvocationConfig.ConnectionArn.",
        )
    if len(given) > 1:
        raise HttpTaskError(RUNTIME, "Specify either Authentication or InvocationConfig, not both.")
    config = payload[given[0]]
    arn = config.get("ConnectionArn") if isinstance(config, dict) else None
    if not isinstance(arn, str) or not arn:
        raise HttpTaskError(RUNTIME, f"{given[0]} must be an object with a ConnectionArn string.")
    connection = connections.lookup(arn)
    if connection is None:
        raise HttpTaskError(
            CONNECTION_NOT_FOUND,
            f"Connection '{arn}' does not exist: podium knows the connections of its --connections file.",
        )
    return connection


def _headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise HttpTaskError(RUNTIME, "The Headers must be a JSON object of names and values.")
    out: list[tuple[str, str]] = []
    refused: list[str] = []
    for name, item in value.items():
        lower = name.lower()
        if lower in FORBIDDEN_HEADERS or lower.startswith(FORBIDDEN_PREFIXES):
            refused.append(lower)
            continue
        if not _TOKEN.match(name):
            raise HttpTaskError(RUNTIME, f"The Headers field contains an invalid header name: {name!r}.")
        for text in _values(item, f"header '{name}'"):
            if "\r" in text or "\n" in text:
                raise HttpTaskError(RUNTIME, f"The value of header '{name}' contains a line break.")
            out.append((name, text))
    if refused:
        raise HttpTaskError(
            RUNTIME, f"The 'Headers' field contains unsupported values: [{', '.join(refused)}]"
        )
    return out


def _query(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, str):
        return parse_qsl(value.lstrip("?"), keep_blank_values=True)
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
        items = [pair for entry in value for pair in entry.items()]
    else:
        raise HttpTaskError(
            RUNTIME, "The QueryParameters must be a JSON object, an array of objects or a string."
        )
    return [(name, text) for name, item in items for text in _values(item, f"query parameter '{name}'")]


def _values(item: Any, what: str) -> list[str]:
    """A header's or a query parameter's values: arrays repeat the name, null leaves it out."""
    if item is None:
        return []
    if isinstance(item, list):
        return [text for element in item for text in _values(element, what)]
    if isinstance(item, dict):
        raise HttpTaskError(RUNTIME, f"The value of {what} must be a string, a number or an array of them.")
    return [_scalar(item)]


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)  # true, 12, 1.5, {...}


def _transform(value: Any) -> tuple[bool, str]:
    if value is None:
        return False, "INDICES"
    if not isinstance(value, dict):
        raise HttpTaskError(RUNTIME, "Transform must be a JSON object.")
    encoding = value.get("RequestBodyEncoding", "NONE")
    if encoding not in BODY_ENCODINGS:
        raise HttpTaskError(
            RUNTIME, f"RequestBodyEncoding must be NONE or URL_ENCODED, not {json.dumps(encoding)}."
        )
    options = value.get("RequestEncodingOptions") or {}
    array_format = options.get("ArrayFormat", "INDICES") if isinstance(options, dict) else None
    if array_format not in ARRAY_FORMATS:
        raise HttpTaskError(
            RUNTIME, f"RequestEncodingOptions.ArrayFormat must be one of {', '.join(ARRAY_FORMATS)}."
        )
    return encoding == "URL_ENCODED", str(array_format)


def form_encode(body: Any, array_format: str = "INDICES") -> str:
    """A JSON value as `application/x-www-form-urlencoded`, the way Step Functions writes it.

    Nested objects become `a[b]=...`; arrays follow ArrayFormat: INDICES `a[0]=x&a[1]=y`, REPEAT
    `a=x&a=y`, COMMAS `a=x,y`, BRACKETS `a[]=x&a[]=y`. Names and values are percent-encoded
    (RFC 3986: a space is %20, brackets are %5B %5D, as in AWS's example request); the commas
    of COMMAS stay literal, as AWS's documentation shows them. null is an empty value; an empty
    array or object contributes nothing.
    """
    pairs: list[tuple[str, str]] = []
    commas: set[int] = set()  # indexes of pairs whose value is already encoded (COMMAS lists)

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), item)
        elif isinstance(value, list):
            if array_format == "COMMAS":
                commas.add(len(pairs))
                pairs.append((prefix, ",".join(quote(_scalar(item), safe="") for item in value)))
                return
            for index, item in enumerate(value):
                suffix = {"INDICES": f"[{index}]", "BRACKETS": "[]"}.get(array_format, "")
                walk(prefix + suffix, item)
        else:
            pairs.append((prefix, _scalar(value)))

    if isinstance(body, dict):
        walk("", body)
    else:  # a bare array or scalar has no names: AWS's encoder has nothing to write but values
        raise HttpTaskError(RUNTIME, "A URL_ENCODED RequestBody must be a JSON object or a string.")
    return "&".join(
        f"{quote(name, safe='')}={value if i in commas else quote(value, safe='')}"
        for i, (name, value) in enumerate(pairs)
    )


# --- the response --------------------------------------------------------------------------


def status_text(status: int) -> str:
    """The reason phrase Step Functions reports: the standard one, not the server's own line."""
    if status == 418:
        return ""  # reported empty by AWS (as observed by another emulator's authors; unverified)
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


_UNSUPPORTED_MEDIA = ("image/", "video/", "audio/")


def task_result(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """The task's result for a 2xx response; raises HttpTaskError for one AWS does not support."""
    grouped: dict[str, list[str]] = {}
    content_type = ""
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
        if name.lower() == "content-type" and not content_type:
            content_type = value
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    if media == "application/octet-stream" or media.startswith(_UNSUPPORTED_MEDIA):
        raise HttpTaskError(
            RUNTIME, f"The HTTP Task does not support responses of content-type '{media}' (binary data)."
        )
    result: dict[str, Any] = {"Headers": grouped}
    if body:
        charset = _charset(params)
        try:
            text = body.decode(charset)
        except (UnicodeDecodeError, LookupError):
            raise HttpTaskError(RUNTIME, "The HTTP response body cannot be read as a valid string.") from None
        response_body: Any = text
        if media == "application/json" or media.endswith("+json"):
            with contextlib.suppress(ValueError):  # said JSON, is not: keep the text
                response_body = json.loads(text)
        result["ResponseBody"] = response_body
    result["StatusCode"] = status
    result["StatusText"] = status_text(status)
    return result


def _charset(params: str) -> str:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            name = value.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                return "utf-8"
    return "utf-8"


def too_large_cause() -> str:
    # The core's words for a result over the payload limit, naming the service as AWS does.
    return (
        "The state/task 'http' returned a result with a size exceeding the maximum number of bytes "
        "service limit."
    )


# --- the connector -------------------------------------------------------------------------


class HttpConnector:
    """Carries out `arn:aws:states:::http:invoke` tasks on a pool of its own threads.

    `request_limit_seconds` is AWS's fixed 60 s (tests shorten it); `max_response_bytes` the
    payload limit, also what Range asks for. `transport` lets tests put an httpx transport in.
    """

    def __init__(
        self,
        connections: Connections | None = None,
        *,
        region: str = "us-east-1",
        max_workers: int = 16,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        request_limit_seconds: float = REQUEST_LIMIT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.connections = connections if connections is not None else Connections()
        self.region = region
        self.max_response_bytes = max_response_bytes
        self.request_limit_seconds = request_limit_seconds
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="podium-http")
        # No redirects (see the module's docstring); proxy and CA variables (HTTPS_PROXY,
        # NO_PROXY, SSL_CERT_FILE) apply as for any client on this machine.
        self._client = httpx.Client(follow_redirects=False, transport=transport, trust_env=True)
        self._lock = threading.Lock()
        self._in_flight: dict[str, Future[None]] = {}
        self._cancelled: set[str] = set()
        self._closed = False
        self._tokens: dict[str, tuple[str, float | None]] = {}  # connection name -> (token, expiry)
        self._token_lock = threading.Lock()

    # --- the Connector port ---

    def accepts(self, resource: str) -> bool:
        return bool(_RESOURCE.match(resource))

    def invoke(self, command: InvokeTask, reply: Reply, trace: HttpTrace | None = None) -> None:
        """Carry the task out on a thread of the pool; `trace` (TestState's) records the exchange."""
        # The deadline counts from dispatch, so a queue of busy threads does not stretch it.
        deadline, task_bound = self._deadline(command)
        with self._lock:
            if self._closed:
                return  # shutting down: the task is owed and runs again at the next start
            future = self._executor.submit(self._run, command, reply, deadline, task_bound, trace)
            # By token: command ids are counters of their execution, the token names both.
            self._in_flight[command.task_token] = future

    def cancel(self, command: InvokeTask) -> None:
        """The execution no longer wants the answer (timed out, stopped): drop it; the request if queued."""
        key = command.task_token
        with self._lock:
            future = self._in_flight.get(key)
            if future is None:
                return
            if future.cancel():  # still queued: it never runs
                del self._in_flight[key]
                return
            self._cancelled.add(key)  # running: its answer is dropped when it comes

    def close(self) -> None:
        """Stop taking tasks; answers still to come are dropped (the tasks are owed, run again at restart)."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    # --- one task ---

    def _deadline(self, command: InvokeTask) -> tuple[float, bool]:
        limit = self.request_limit_seconds
        task_bound = command.timeout_seconds is not None and command.timeout_seconds <= limit
        if task_bound:
            limit = float(command.timeout_seconds or 0)
        return time.monotonic() + limit, task_bound

    def _run(
        self, command: InvokeTask, reply: Reply, deadline: float, task_bound: bool, trace: HttpTrace | None
    ) -> None:
        signal: Signal | None
        try:
            result = self.perform(command.payload, deadline, trace)
            signal = TaskSucceeded(0, command.command_id, result)
        except HttpTaskError as exc:
            signal = TaskFailed(0, command.command_id, exc.error, exc.cause)
        except _DeadlineError:
            if task_bound:
                signal = None  # the core's TimeoutSeconds timer answers: States.Timeout
            else:
                limit = f"{self.request_limit_seconds:g}"
                signal = TaskFailed(
                    0, command.command_id, SOCKET, f"The HTTP request timed out after {limit} seconds."
                )
        except Exception as exc:  # a bug here must fail the task, not leave it hanging
            log.exception("podium http: task %s failed unexpectedly", command.command_id)
            signal = TaskFailed(0, command.command_id, RUNTIME, f"podium's HTTP connector failed: {exc!r}")
        with self._lock:
            self._in_flight.pop(command.task_token, None)
            dropped = self._closed or command.task_token in self._cancelled
            self._cancelled.discard(command.task_token)
        if signal is not None and not dropped:
            reply(signal)

    def perform(self, payload: JSON, deadline: float, trace: HttpTrace | None = None) -> dict[str, Any]:
        """Call the API; the task's result, or HttpTaskError / _DeadlineError. `trace`, if given,
        is filled in with the (last) request sent and the response to it."""
        request = build_request(payload, self.connections)
        connection = request.connection
        oauth = connection.oauth if connection is not None else None
        for attempt in range(2):
            headers = list(request.headers)
            if connection is not None:
                headers = self._authorize(headers, connection, deadline, refresh=attempt > 0)
            headers = self._stamped(headers)
            if trace is not None:
                self._trace_request(trace, payload, request, headers)
            status, response_headers, body = self._exchange(
                request.method, request.url, headers, request.body, deadline
            )
            if trace is not None:
                trace.response = {
                    "protocol": urlsplit(request.url).scheme,
                    "statusCode": str(status),
                    "statusMessage": status_text(status),
                    "headers": header_text(response_headers),
                    "body": _body_text(body, response_headers),
                }
            # An OAuth token the API no longer takes is fetched again, once (as EventBridge
            # re-authorizes a connection on 401).
            if status == 401 and oauth is not None and attempt == 0:
                continue
            break
        if not 200 <= status < 300:
            raise HttpTaskError(f"States.Http.StatusCode.{status}", status_text(status))
        return task_result(status, response_headers, body)

    def _stamped(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The headers with the two Step Functions sets itself, in place of any the task set."""
        headers = [(k, v) for k, v in headers if k.lower() not in ("user-agent", "range")]
        headers.append(("User-Agent", f"Amazon|StepFunctions|HttpInvoke|{self.region}"))
        headers.append(("Range", f"bytes=0-{self.max_response_bytes}"))
        return headers

    def _trace_request(
        self, trace: HttpTrace, payload: JSON, request: HttpRequest, headers: list[tuple[str, str]]
    ) -> None:
        shown_headers, shown = headers, request
        if not trace.reveal_secrets:
            # The request as the definition describes it: no connection parameters, no credentials.
            shown = build_request(payload, self.connections, with_connection=False)
            shown_headers = self._stamped(list(shown.headers))
        trace.request = {
            "protocol": urlsplit(shown.url).scheme,
            "method": shown.method,
            "url": shown.url,
            "headers": header_text(shown_headers),
            "body": (shown.body or b"").decode("utf-8", errors="replace"),
        }

    def _exchange(
        self, method: str, url: str, headers: list[tuple[str, str]], content: bytes | None, deadline: float
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineError
        # Each phase (connect, send, each read) is bounded by what is left; the body's reads are
        # checked against the deadline as they come, so a trickling server cannot stretch it.
        request = self._client.build_request(
            method, url, headers=headers, content=content, timeout=httpx.Timeout(remaining)
        )
        # None of httpx's own defaults (Accept, Accept-Encoding, Connection, its User-Agent)
        # unless the task set them: the request carries what Step Functions' does.
        given = {name.lower() for name, _ in headers}
        for name in _CLIENT_DEFAULTS - given:
            request.headers.pop(name, None)
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise _DeadlineError from None
        except httpx.TransportError as exc:
            raise HttpTaskError(
                SOCKET, f"The HTTP request to {_origin(url)} failed: {_describe(exc)}."
            ) from None
        try:
            chunks: list[bytes] = []
            size = 0
            if method != "HEAD":
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        raise HttpTaskError(DATA_LIMIT, too_large_cause())
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _DeadlineError
            # Names as the server wrote them (TestState shows them; the result lower-cases them).
            charset = response.headers.encoding  # httpx's choice: ascii, utf-8 or latin-1
            raw = [(k.decode(charset), v.decode(charset)) for k, v in response.headers.raw]
            return response.status_code, raw, b"".join(chunks)
        except httpx.TimeoutException:
            raise _DeadlineError from None
        except httpx.TransportError as exc:
            raise HttpTaskError(
                SOCKET, f"Reading the response of {_origin(url)} failed: {_describe(exc)}."
            ) from None
        finally:
            response.close()

    # --- credentials ---

    def _authorize(
        self, headers: list[tuple[str, str]], connection: Connection, deadline: float, *, refresh: bool
    ) -> list[tuple[str, str]]:
        """The headers with the connection's credentials: they replace any of the same name."""
        if connection.auth_type == "API_KEY":
            name, value = connection.api_key_name, connection.api_key_value
        elif connection.auth_type == "BASIC":
            name, value = "Authorization", _basic(connection.username, connection.password)
        elif connection.oauth is not None:
            name, value = (
                "Authorization",
                f"Bearer {self._token(connection, connection.oauth, deadline, refresh)}",
            )
        else:
            return headers
        return [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]

    def _token(self, connection: Connection, oauth: OAuthClient, deadline: float, refresh: bool) -> str:
        with self._token_lock:  # one fetch at a time: concurrent tasks wait for it, not each fetch
            cached = self._tokens.get(connection.name)
            if cached is not None and not refresh:
                token, expiry = cached
                if expiry is None or time.monotonic() < expiry:
                    return token
            token, lifetime = self._fetch_token(connection, oauth, deadline)
            # Renew a little early, so that a token does not expire between here and the API.
            expiry = None if lifetime is None else time.monotonic() + max(lifetime - 30.0, lifetime / 2)
            self._tokens[connection.name] = (token, expiry)
            return token

    def _fetch_token(
        self, connection: Connection, oauth: OAuthClient, deadline: float
    ) -> tuple[str, float | None]:
        """The client-credentials grant: client id and secret as Basic authorization, form parameters."""
        form = {"grant_type": "client_credentials", **oauth.body}
        query = dict(oauth.query)
        content: bytes | None = None
        headers = [("Authorization", _basic(oauth.client_id, oauth.client_secret))]
        headers.extend(oauth.headers.items())
        if oauth.http_method == "GET":
            query.update(form)
        else:
            content = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in form.items()).encode()
            headers.append(("Content-Type", FORM_CONTENT_TYPE))
        headers.append(("Accept", "application/json"))
        url = oauth.authorization_endpoint
        if query:
            url += ("&" if "?" in url else "?") + "&".join(
                f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items()
            )
        failed = f"The connection '{connection.name}' could not be authorized"
        try:
            status, _, body = self._exchange(oauth.http_method, url, headers, content, deadline)
        except HttpTaskError as exc:
            raise HttpTaskError(CONNECTION_STATE, f"{failed}: {exc.cause}") from None
        if not 200 <= status < 300:
            raise HttpTaskError(CONNECTION_STATE, f"{failed}: its authorization endpoint answered {status}.")
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise HttpTaskError(
                CONNECTION_STATE, f"{failed}: its authorization endpoint sent no access_token."
            )
        lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
        return token, float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else None


def _body_text(body: bytes, headers: Iterable[tuple[str, str]]) -> str:
    """A response body as text for TestState to show, in the charset its content type names."""
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return body.decode(_charset(content_type.partition(";")[2]), errors="replace")


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"  # never the query: it may carry a connection's secret


def _describe(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
