"""SigV4 verification, against requests signed by botocore's own SigV4Auth."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from podium.api.app import ApiSettings
from podium.api.auth import CredentialsError, SigV4Verifier, load_credentials, parse_credentials
from podium.api.errors import (
    AccessDeniedException,
    ApiError,
    IncompleteSignatureException,
    InvalidSignatureException,
    UnrecognizedClientException,
)

from .conftest import AppFactory, error_of, http_client

KEY, SECRET = "AKIDPODIUM", "s3cr3t/with+chars"
CREDENTIALS = {KEY: SECRET, "AKIDOTHER": "other"}
BODY = json.dumps({"maxResults": 5}).encode()
Headers = list[tuple[str, str]]


def signed(
    *,
    key: str = KEY,
    secret: str = SECRET,
    region: str = "us-east-1",
    service: str = "states",
    host: str = "127.0.0.1:8083",
    body: bytes = BODY,
    extra: dict[str, str] | None = None,
) -> Headers:
    """The headers botocore sends for a ListStateMachines call (Host included, as on the wire)."""
    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body,
        headers={
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
            "Content-Type": "application/x-amz-json-1.0",
            **(extra or {}),
        },
    )
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    return [("host", host), *((name, str(value)) for name, value in request.headers.items())]


def verify(headers: Headers, body: bytes = BODY, *, clock: Callable[[], float] = time.time) -> str:
    return SigV4Verifier(CREDENTIALS, clock=clock).verify("POST", "/", "", headers, body)


def refused(headers: Headers, body: bytes = BODY, **kwargs: Callable[[], float]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        verify(headers, body, **kwargs)
    return caught.value


def test_a_request_signed_by_botocore_verifies() -> None:
    assert verify(signed()) == KEY


def test_the_signers_region_and_host_are_the_ones_checked() -> None:
    assert verify(signed(region="eu-west-3")) == KEY
    assert verify(signed(host="sync-localhost:8083")) == KEY  # StartSyncExecution's host prefix


def test_headers_may_arrive_in_any_case_and_order() -> None:
    headers = [(name.upper(), value) for name, value in reversed(signed())]
    assert verify(headers) == KEY


def test_a_request_dated_by_the_date_header_verifies() -> None:
    assert verify(signed(extra={"Date": formatdate(usegmt=True)})) == KEY


def test_no_authorization_is_access_denied() -> None:
    headers = [(n, v) for n, v in signed() if n.lower() != "authorization"]
    error = refused(headers)
    assert isinstance(error, AccessDeniedException)
    assert "Missing Authentication Token" in error.message


def test_an_unknown_access_key_is_an_unrecognized_client() -> None:
    error = refused(signed(key="AKIDSTRANGER"))
    assert isinstance(error, UnrecognizedClientException)
    assert error.message == "The security token included in the request is invalid."


def test_a_wrong_secret_is_an_invalid_signature() -> None:
    error = refused(signed(secret="guess"))
    assert isinstance(error, InvalidSignatureException)
    assert error.message.startswith("The request signature we calculated does not match")


def test_a_changed_body_is_an_invalid_signature() -> None:
    assert isinstance(refused(signed(), body=b'{"maxResults": 6}'), InvalidSignatureException)


def test_a_changed_signed_header_is_an_invalid_signature() -> None:
    headers = [
        (n, "AWSStepFunctions.DeleteStateMachine" if n.lower() == "x-amz-target" else v) for n, v in signed()
    ]
    assert isinstance(refused(headers), InvalidSignatureException)


def test_a_body_hash_header_must_be_the_bodys() -> None:
    error = refused(signed(extra={"X-Amz-Content-SHA256": "0" * 64}))
    assert isinstance(error, InvalidSignatureException)
    assert "x-amz-content-sha256" in error.message


def test_another_service_is_an_invalid_signature() -> None:
    error = refused(signed(service="lambda"))
    assert error.message == "Credential should be scoped to correct service: 'states'."


@pytest.mark.parametrize(
    ("offset", "words"), [(16 * 60, "Signature expired"), (-16 * 60, "Signature not yet current")]
)
def test_a_request_15_minutes_off_the_clock_is_refused(offset: float, words: str) -> None:
    headers = signed()
    error = refused(headers, clock=lambda: time.time() + offset)
    assert isinstance(error, InvalidSignatureException)
    assert error.message.startswith(words) and "15 min." in error.message


def test_a_request_14_minutes_off_the_clock_is_accepted() -> None:
    assert verify(signed(), clock=lambda: time.time() + 14 * 60) == KEY


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256 Credential=AKIDPODIUM/20240101/us-east-1/states/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDPODIUM/us-east-1, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 garbage",
    ],
)
def test_a_malformed_authorization_is_an_incomplete_signature(authorization: str) -> None:
    headers = [(n, authorization if n.lower() == "authorization" else v) for n, v in signed()]
    assert isinstance(refused(headers), IncompleteSignatureException)


def test_the_host_must_be_signed() -> None:
    headers = signed()
    authorization = next(v for n, v in headers if n == "Authorization")
    start = authorization.index("SignedHeaders=")
    end = authorization.index(",", start)
    names = authorization[start + len("SignedHeaders=") : end].split(";")
    names.remove("host")
    forged = authorization[:start] + "SignedHeaders=" + ";".join(names) + authorization[end:]
    error = refused([(n, forged if n == "Authorization" else v) for n, v in headers])
    assert "'Host' must be a 'SignedHeader'" in error.message


# --- credentials ---------------------------------------------------------------------------


def test_credentials_files_have_one_key_per_line(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text("# podium's clients\nAKID1:secret1\n\n  AKID2 : sec:ret2  \n")
    assert load_credentials(str(path), environ={}) == {"AKID1": "secret1", "AKID2": "sec:ret2"}


def test_the_environment_lists_keys_separated_by_commas() -> None:
    environ = {"PODIUM_CREDENTIALS": "AKID1:secret1,AKID2:secret2"}
    assert load_credentials(None, environ=environ) == {"AKID1": "secret1", "AKID2": "secret2"}


def test_no_credentials_anywhere_is_none() -> None:
    assert load_credentials(None, environ={"PODIUM_CREDENTIALS": " "}) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("AKID1 hunter2\n", "line 1: expected ACCESS_KEY:SECRET"),
        ("AKID1:\n", "line 1: expected ACCESS_KEY:SECRET"),
        ("AKID1:hunter2\nAKID1:hunter3\n", "line 2: access key AKID1 is given twice"),
        ("# nothing\n", "no credentials in it"),
    ],
)
def test_bad_credentials_are_named_without_their_secrets(text: str, words: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        parse_credentials(text, source="creds.txt")
    assert words in str(caught.value)
    assert "hunter" not in str(caught.value)


def test_an_unreadable_credentials_file_is_a_credentials_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot read credentials file"):
        load_credentials(str(tmp_path / "missing"))


# --- through the app -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_app_serves_signed_requests_and_refuses_others(make_app: AppFactory) -> None:
    app = make_app(ApiSettings(credentials=CREDENTIALS))
    async with http_client(app) as client:
        good = await client.post("/", content=BODY, headers=signed())
        assert good.status_code == 200
        unsigned = await client.post(
            "/", content=BODY, headers=[(n, v) for n, v in signed() if n != "Authorization"]
        )
        assert error_of(unsigned)[:2] == (403, "AccessDeniedException")
        wrong = await client.post("/", content=BODY, headers=signed(secret="guess"))
        assert error_of(wrong)[:2] == (403, "InvalidSignatureException")
        health = await client.get("/health")  # probes cannot sign
        assert health.status_code == 200


@pytest.mark.anyio
async def test_the_signature_is_checked_before_anything_else(make_app: AppFactory) -> None:
    app = make_app(ApiSettings(credentials=CREDENTIALS))
    async with http_client(app) as client:
        response = await client.post("/", content=b"not json", headers={"Content-Type": "text/plain"})
    assert error_of(response)[:2] == (403, "AccessDeniedException")
