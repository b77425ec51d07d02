"""AWS Signature Version 4, verified: who may call a podium server that has credentials.

A client signs a canonical form of its request (method, path, query, the headers it names,
the SHA-256 of the body) with a key derived from its secret, the date, the region and the
service. The server rebuilds the same canonical form from what it received and recomputes
the signature with the secret it holds for the access key the client named; any change in
transit, or a wrong secret, gives another signature. boto3 and the AWS CLI sign this way by
default, so with credentials configured they work unchanged.

Errors, as AWS names them: no Authorization header -> AccessDeniedException; a malformed one
-> IncompleteSignatureException; an access key the server does not know ->
UnrecognizedClientException; a signature that does not match, a request dated more than 15
minutes away from the server's clock, or a body whose hash is not the one signed ->
InvalidSignatureException.

The region in the credential scope is not required to be the server's: the signature is
checked with the region the client signed with, which proves the secret just as well and
spares users whose default region differs a confusing error. The service must be "states".
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, unquote

from podium.api.errors import (
    AccessDeniedException,
    IncompleteSignatureException,
    InvalidSignatureException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "states"
MAX_CLOCK_SKEW = 15 * 60.0
CREDENTIALS_ENV = "PODIUM_CREDENTIALS"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS"
    " Secret Access Key and signing method. Consult the service documentation for details."
)

Credentials = Mapping[str, str]
"""Secret access keys by access key id."""


class CredentialsError(ValueError):
    """A credentials file or variable that cannot be read; the message names where, never a secret."""


def parse_credentials(text: str, *, source: str, separator: str = "\n") -> dict[str, str]:
    """`ACCESS_KEY:SECRET` entries, one per line (or per `separator`); blanks and `#` comments skipped."""
    credentials: dict[str, str] = {}
    for number, raw in enumerate(text.split(separator), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        key, colon, secret = entry.partition(":")
        key, secret = key.strip(), secret.strip()
        where = f"{source}, entry {number}" if separator != "\n" else f"{source}, line {number}"
        if not colon or not key or not secret:
            raise CredentialsError(f"{where}: expected ACCESS_KEY:SECRET")
        if key in credentials:
            raise CredentialsError(f"{where}: access key {key} is given twice")
        credentials[key] = secret
    if not credentials:
        raise CredentialsError(f"{source}: no credentials in it")
    return credentials


def load_credentials(path: str | None, environ: Mapping[str, str] = os.environ) -> dict[str, str] | None:
    """Credentials from the file at `path`, else from $PODIUM_CREDENTIALS; None when neither is given."""
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CredentialsError(f"cannot read credentials file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise CredentialsError(f"credentials file {path} is not UTF-8 text") from None
        return parse_credentials(text, source=path)
    value = environ.get(CREDENTIALS_ENV)
    if value is None or not value.strip():
        return None
    return parse_credentials(value, source=f"${CREDENTIALS_ENV}", separator=",")


class SigV4Verifier:
    """Checks requests' signatures against a fixed set of credentials."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        max_clock_skew: float = MAX_CLOCK_SKEW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = dict(credentials)
        self._max_skew = max_clock_skew
        self._clock = clock

    def verify(
        self,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        body: bytes,
    ) -> str:
        """The access key id that signed the request; raises the ApiError AWS would.

        `path` and `query` as they came on the wire (still percent-encoded); `headers` as
        received, names in any case, repeated names allowed.
        """
        values: dict[str, list[str]] = {}
        for name, value in headers:
            values.setdefault(name.lower(), []).append(value)
        authorization = _single(values, "authorization")
        if authorization is None:
            raise AccessDeniedException(
                "Missing Authentication Token: this podium server requires requests signed with"
                " AWS Signature Version 4 by one of its access keys"
            )
        access_key, scope, signed_headers, signature = _parse_authorization(authorization)
        date, region, service = scope
        if service != SERVICE:
            raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE}'.")
        secret = self._credentials.get(access_key)
        if secret is None:
            raise UnrecognizedClientException("The security token included in the request is invalid.")
        if "host" not in signed_headers:
            raise InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        missing = [name for name in signed_headers if name not in values]
        if missing:
            raise InvalidSignatureException(
                f"The request does not carry the signed header(s) {', '.join(missing)}."
            )
        amz_date = self._request_time(values, signed_headers)
        if amz_date[:8] != date:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
                f" HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        payload_hash = hashlib.sha256(body).hexdigest()
        claimed = _single(values, "x-amz-content-sha256")
        if claimed is not None and claimed != payload_hash:
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        canonical = "\n".join(
            [
                method.upper(),
                _canonical_path(path),
                _canonical_query(query),
                "".join(f"{name}:{_canonical_value(values[name])}\n" for name in signed_headers),
                ";".join(signed_headers),
                claimed or payload_hash,
            ]
        )
        scope_text = f"{date}/{region}/{service}/aws4_request"
        string_to_sign = "\n".join(
            [ALGORITHM, amz_date, scope_text, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
        )
        expected = hmac.new(
            signing_key(secret, date, region, service), string_to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignatureException(_SIGNATURE_MISMATCH)
        return access_key

    def _request_time(self, values: Mapping[str, list[str]], signed_headers: list[str]) -> str:
        """The request's signing time (ISO-8601 basic), checked against the clock."""
        amz_date = _single(values, "x-amz-date")
        if amz_date is not None and "x-amz-date" in signed_headers:
            try:
                moment = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
            except ValueError:
                raise IncompleteSignatureException(
                    "X-Amz-Date must be in the ISO8601 Long Format"
                    f" \"yyyyMMdd'T'HHmmss'Z'\", not '{amz_date}'"
                ) from None
        else:
            date_header = _single(values, "date")
            if date_header is None or "date" not in signed_headers:
                raise IncompleteSignatureException(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header,"
                    " signed."
                )
            try:
                moment = parsedate_to_datetime(date_header).astimezone(UTC)
            except (TypeError, ValueError):
                raise IncompleteSignatureException(
                    f"Date header is not an HTTP date: '{date_header}'"
                ) from None
            amz_date = moment.strftime(_AMZ_DATE)
        now = self._clock()
        skew = moment.timestamp() - now
        if abs(skew) > self._max_skew:
            now_text = datetime.fromtimestamp(now, UTC).strftime(_AMZ_DATE)
            minutes = round(self._max_skew / 60)
            if skew < 0:
                bound = datetime.fromtimestamp(now - self._max_skew, UTC).strftime(_AMZ_DATE)
                message = (
                    f"Signature expired: {amz_date} is now earlier than {bound} ({now_text} - {minutes} min.)"
                )
            else:
                bound = datetime.fromtimestamp(now + self._max_skew, UTC).strftime(_AMZ_DATE)
                message = (
                    f"Signature not yet current: {amz_date} is still later than {bound}"
                    f" ({now_text} + {minutes} min.)"
                )
            raise InvalidSignatureException(message)
        return amz_date


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The key SigV4 derives for one day, region and service."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


def _single(values: Mapping[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    return None if not found else found[0]


def _parse_authorization(header: str) -> tuple[str, tuple[str, str, str], list[str], str]:
    """(access key, (date, region, service), signed header names, signature) of the header."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported Authorization Type: podium accepts only {ALGORITHM} (AWS Signature Version 4)"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        match = _FIELD.fullmatch(part)
        if match is None:
            raise IncompleteSignatureException(f"Authorization header is malformed near '{part.strip()}'.")
        fields[match.group(1)] = match.group(2)
    for required in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(required):
            raise IncompleteSignatureException(f"Authorization header requires '{required}' parameter.")
    credential = fields["Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request" or not all(credential):
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g."
            f" keyid/date/region/service/aws4_request, got '{fields['Credential']}'."
        )
    access_key, date, region, service, _ = credential
    signed_headers = fields["SignedHeaders"].split(";")
    return access_key, (date, region, service), signed_headers, fields["Signature"]


def _canonical_path(raw_path: str) -> str:
    # What botocore signs: the path with dot segments removed, percent-encoded once (not
    # S3's style). Decode first so that a path the HTTP server re-encoded compares equal.
    path = unquote(raw_path) or "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in (".", ""):
            segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return quote(normalized, safe="/~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def _canonical_value(values: list[str]) -> str:
    return ",".join(" ".join(value.split()) for value in values)
