"""HTTP tasks without a network: the request podium builds, the result it reports, the connections file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podium.connectors.connections import (
    Connection,
    Connections,
    ConnectionsError,
    connection_name,
    load_connections,
    parse_connections,
)
from podium.connectors.http import (
    HttpConnector,
    HttpTaskError,
    build_request,
    form_encode,
    status_text,
    task_result,
)

ARN = "arn:aws:events:us-east-1:123456789012:connection/local/0b1c2d3e-aaaa-bbbb-cccc-000000000000"
LOCAL = Connections(by_name={"local": Connection("local")})


def params(**extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ApiEndpoint": "https://api.example.com/v1/customers",
        "Method": "GET",
        "Authentication": {"ConnectionArn": ARN},
    }
    out.update(extra)
    return out


def failure(payload: Any, connections: Connections = LOCAL) -> HttpTaskError:
    with pytest.raises(HttpTaskError) as caught:
        build_request(payload, connections)
    return caught.value


# --- URL-encoded bodies: AWS's own examples ------------------------------------------------


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", "array%5B0%5D=a&array%5B1%5D=b&array%5B2%5D=c&array%5B3%5D=d"),
        ("REPEAT", "array=a&array=b&array=c&array=d"),
        ("COMMAS", "array=a,b,c,d"),
        ("BRACKETS", "array%5B%5D=a&array%5B%5D=b&array%5B%5D=c&array%5B%5D=d"),
    ],
)
def test_each_array_format_encodes_as_the_documentation_shows(array_format: str, expected: str) -> None:
    # AWS shows array[0]=a&array[1]=b...; its example request percent-encodes the brackets.
    assert form_encode({"array": ["a", "b", "c", "d"]}, array_format) == expected


def test_nested_objects_spaces_and_scalars_encode_like_the_stripe_example() -> None:
    body = {
        "description": "Monthly subscription",
        "metadata": {"order_details": "monthly report data"},
        "customer": "1234567890",
    }
    # The request AWS documents for its Stripe invoice example, byte for byte.
    assert form_encode(body) == (
        "description=Monthly%20subscription&metadata%5Border_details%5D=monthly%20report%20data"
        "&customer=1234567890"
    )
    assert form_encode({"n": 3, "ok": True, "none": None, "empty": [], "amp": "a&b=c"}) == (
        "n=3&ok=true&none=&amp=a%26b%3Dc"
    )
    assert form_encode({"a": [{"b": 1}, {"b": 2}]}, "INDICES") == "a%5B0%5D%5Bb%5D=1&a%5B1%5D%5Bb%5D=2"


# --- the request ---------------------------------------------------------------------------


def test_a_request_merges_the_connection_and_its_values_win() -> None:
    """AWS's data-merging example: connection headers, query and body override the definition's."""
    connection = Connection(
        "Example",
        headers={"Header-Param": "connection_header_param"},
        query={"QueryParam": "connection_query_param"},
        body={"BodyParam": "connection_body_param"},
    )
    request = build_request(
        params(
            ApiEndpoint="https://example.com/path",
            Method="POST",
            Headers={"Request-Id": "my_request_id", "header-param": "state_machine_header_param"},
            RequestBody={"Job": "Software Engineer", "Company": "AnyCompany", "BodyParam": "mine"},
            QueryParameters={"QueryParam": "state_machine_query_param"},
        ),
        Connections(by_name={"local": connection}),
    )
    assert request.url == "https://example.com/path?QueryParam=connection_query_param"
    assert ("Header-Param", "connection_header_param") in request.headers
    assert all(v != "state_machine_header_param" for _, v in request.headers)
    assert ("Content-Type", "application/json; charset=UTF-8") in request.headers
    assert (
        request.body
        == b'{"Job":"Software Engineer","Company":"AnyCompany","BodyParam":"connection_body_param"}'
    )


def test_query_parameters_append_to_the_endpoint_url_encoded() -> None:
    request = build_request(
        params(
            ApiEndpoint="https://api.example.com/search?fixed=1",
            QueryParameters={"q": "blue shoes", "tag": ["a", "b"], "skip": None, "n": 2},
        ),
        LOCAL,
    )
    assert request.url == "https://api.example.com/search?fixed=1&q=blue%20shoes&tag=a&tag=b&n=2"
    assert build_request(params(QueryParameters="a=1&b=x y"), LOCAL).url.endswith("?a=1&b=x%20y")


def test_forbidden_headers_fail_with_states_runtime_naming_them() -> None:
    error = failure(params(Headers={"Authorization": "Bearer x", "X-Amz-Date": "now", "Ok": "1"}))
    assert error.error == "States.Runtime"
    assert error.cause == "The 'Headers' field contains unsupported values: [authorization, x-amz-date]"
    for name in ("Host", "Transfer-Encoding", "x-forwarded-for", "X-Amzn-Trace-Id", "Cookie-Less-Origin"):
        if name == "Cookie-Less-Origin":
            build_request(params(Headers={name: "fine"}), LOCAL)  # not on AWS's list
        else:
            assert failure(params(Headers={name: "x"})).error == "States.Runtime"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (params(Method="FETCH"), "Method must be one of GET, POST"),
        (params(Method="get"), "Method must be one of"),
        (params(ApiEndpoint="ftp://files.example.com/x"), "not an http(s) URL"),
        (params(ApiEndpoint="file:///etc/passwd"), "not an http(s) URL"),
        (params(ApiEndpoint="https://user:pw@example.com/"), "must not carry credentials"),
        (params(Header={"a": "b"}), "The field 'Header' is not supported"),
        (
            params(Transform={"RequestBodyEncoding": "GZIP"}),
            "RequestBodyEncoding must be NONE or URL_ENCODED",
        ),
        (
            params(
                Transform={
                    "RequestBodyEncoding": "URL_ENCODED",
                    "RequestEncodingOptions": {"ArrayFormat": "X"},
                }
            ),
            "ArrayFormat must be one of INDICES, REPEAT, COMMAS, BRACKETS",
        ),
        ({"ApiEndpoint": "https://example.com", "Method": "GET"}, "needs a connection"),
        (params(InvocationConfig={"ConnectionArn": ARN}), "either Authentication or InvocationConfig"),
        (params(Headers={"X-Bad": "a\r\nInjected: 1"}), "line break"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_bad_parameters_fail_with_states_runtime(payload: Any, words: str) -> None:
    error = failure(payload)
    assert error.error == "States.Runtime"
    assert words in error.cause


def test_invocation_config_names_the_connection_as_authentication_does() -> None:
    payload = params()
    payload["InvocationConfig"] = payload.pop("Authentication")
    assert build_request(payload, LOCAL).connection == Connection("local")


def test_an_unknown_connection_is_events_resource_not_found() -> None:
    error = failure(params(), Connections())
    assert error.error == "Events.ConnectionResource.ResourceNotFound"
    assert ARN in error.cause


def test_a_string_body_cannot_take_the_connections_body_parameters() -> None:
    connections = Connections(by_name={"local": Connection("local", body={"k": "v"})})
    error = failure(params(Method="POST", RequestBody="raw text"), connections)
    assert error.error == "States.Runtime"
    # Without body parameters a string is sent as it is; with none at all, the connection's alone.
    assert build_request(params(Method="POST", RequestBody="raw text"), LOCAL).body == b"raw text"
    assert build_request(params(Method="POST"), connections).body == b'{"k":"v"}'


def test_url_encoded_bodies_default_to_the_form_content_type() -> None:
    transform = {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "REPEAT"}}
    request = build_request(params(Method="POST", RequestBody={"a": [1, 2]}, Transform=transform), LOCAL)
    assert request.body == b"a=1&a=2"
    assert ("Content-Type", "application/x-www-form-urlencoded") in request.headers
    mine = build_request(
        params(Method="POST", RequestBody={"a": 1}, Transform=transform, Headers={"content-type": "text/x"}),
        LOCAL,
    )
    assert [v for k, v in mine.headers if k.lower() == "content-type"] == ["text/x"]


# --- the result ------------------------------------------------------------------------------


def test_the_result_has_aws_shape_headers_grouped_and_json_parsed() -> None:
    headers = [("Content-Type", "application/json"), ("X-Multi", "one"), ("x-multi", "two")]
    result = task_result(200, headers, b'{"a": 1}')
    assert result == {
        "Headers": {"content-type": ["application/json"], "x-multi": ["one", "two"]},
        "ResponseBody": {"a": 1},
        "StatusCode": 200,
        "StatusText": "OK",
    }
    assert list(result) == ["Headers", "ResponseBody", "StatusCode", "StatusText"]
    assert task_result(200, [("Content-Type", "text/plain")], b'{"a": 1}')["ResponseBody"] == '{"a": 1}'
    assert task_result(200, [("Content-Type", "application/json")], b"not json")["ResponseBody"] == "not json"
    assert task_result(200, [("Content-Type", "application/problem+json")], b"[1]")["ResponseBody"] == [1]
    assert "ResponseBody" not in task_result(204, [], b"")
    latin = task_result(200, [("Content-Type", "text/plain; charset=latin-1")], "café".encode("latin-1"))
    assert latin["ResponseBody"] == "café"


@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/png", "video/mp4", "audio/ogg"])
def test_binary_responses_fail_with_states_runtime(content_type: str) -> None:
    with pytest.raises(HttpTaskError) as caught:
        task_result(200, [("Content-Type", content_type)], b"\x00\x01")
    assert caught.value.error == "States.Runtime"


def test_a_body_that_is_not_text_fails_with_states_runtime() -> None:
    with pytest.raises(HttpTaskError) as caught:
        task_result(200, [("Content-Type", "text/plain")], b"\xff\xfe\xfa")
    assert caught.value.error == "States.Runtime"


def test_status_texts_are_the_standard_phrases() -> None:
    assert (status_text(200), status_text(404), status_text(503), status_text(799)) == (
        "OK",
        "Not Found",
        "Service Unavailable",
        "",
    )


def test_the_connector_takes_only_the_http_invoke_resource() -> None:
    connector = HttpConnector()
    try:
        assert connector.accepts("arn:aws:states:::http:invoke")
        assert connector.accepts("arn:aws-cn:states:::http:invoke")
        assert not connector.accepts("arn:aws:states:::http:invoke.waitForTaskToken")
        assert not connector.accepts("arn:aws:states:::lambda:invoke")
    finally:
        connector.close()


# --- the connections file ---------------------------------------------------------------


def test_a_connections_file_in_yaml_with_environment_secrets(tmp_path: Path) -> None:
    path = tmp_path / "connections.yaml"
    path.write_text(
        """
connections:
  stripe:
    type: API_KEY
    parameters: {name: Authorization, value: "Bearer ${STRIPE_KEY}"}
    invocation:
      headers: {Stripe-Version: "2024-06-20"}
      query: {limit: 10}
      body: [{Key: source, Value: podium, IsValueSecret: false}]
  "arn:aws:events:us-east-1:123456789012:connection/ledger/0b1c":
    type: BASIC
    parameters: {Username: podium, Password: "${LEDGER_PASSWORD}"}
  auth0:
    type: OAUTH_CLIENT_CREDENTIALS
    parameters:
      authorization_endpoint: https://example.auth0.com/oauth/token
      ClientID: abc
      client_secret: s3cret
      body: {audience: https://api.example.com}
  plain: {}
""",
        encoding="utf-8",
    )
    connections = load_connections(path, env={"STRIPE_KEY": "sk_1", "LEDGER_PASSWORD": "pw"})
    stripe = connections.lookup("arn:aws:events:us-east-2:123456789012:connection/stripe/81210c42")
    assert stripe is not None and stripe.api_key_name == "Authorization"
    assert stripe.api_key_value == "Bearer sk_1"
    assert (stripe.headers, stripe.query, stripe.body) == (
        {"Stripe-Version": "2024-06-20"},
        {"limit": "10"},
        {"source": "podium"},
    )
    ledger = connections.lookup("arn:aws:events:us-east-1:123456789012:connection/ledger/0b1c")
    assert ledger is not None and (ledger.username, ledger.password) == ("podium", "pw")
    # The ARN key matches exactly, not by name: another account's "ledger" is another connection.
    assert connections.lookup("arn:aws:events:us-east-1:999999999999:connection/ledger/ffff") is None
    auth0 = connections.lookup("auth0")
    assert auth0 is not None and auth0.oauth is not None
    assert (auth0.oauth.client_id, auth0.oauth.http_method, auth0.oauth.body) == (
        "abc",
        "POST",
        {"audience": "https://api.example.com"},
    )
    assert "s3cret" not in repr(auth0) and "sk_1" not in repr(stripe)
    plain = connections.lookup("plain")
    assert plain is not None and plain.auth_type is None


def test_a_connections_file_in_json(tmp_path: Path) -> None:
    path = tmp_path / "connections.json"
    path.write_text(json.dumps({"svc": {"type": "BASIC", "parameters": {"username": "u", "password": "p"}}}))
    connection = load_connections(path).lookup("svc")
    assert connection is not None and connection.auth_type == "BASIC"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"a": {"type": "TOKEN"}}, "type must be one of API_KEY, BASIC, OAUTH_CLIENT_CREDENTIALS"),
        ({"a": {"type": "BASIC", "parameters": {"username": "u"}}}, "needs parameters password"),
        ({"a": {"type": "API_KEY", "parameters": {"name": "k", "value": "${NOPE}"}}}, "NOPE is not set"),
        ({"a": {"type": "BASIC", "parameters": {"user": "u", "password": "p"}}}, "unknown field 'user'"),
        ({"a": {"typ": "BASIC"}}, "unknown field(s) 'typ'"),
        ({"a": {"invocation": {"headers": {"k": {"nested": 1}}}}}, "expected a string"),
        ({"a": {"parameters": {"name": "k"}}}, "parameters need a type"),
        ({"arn:aws:sqs:us-east-1:1:q": {}}, "connection name or an EventBridge connection ARN"),
        (["a"], "expected a mapping"),
    ],
)
def test_connection_file_mistakes_are_named(data: Any, words: str) -> None:
    with pytest.raises(ConnectionsError) as caught:
        parse_connections(data, source="c.yaml", env={})
    assert words in str(caught.value)
    assert str(caught.value).startswith("c.yaml")


def test_a_missing_connections_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectionsError, match="no such connections file"):
        load_connections(tmp_path / "nope.yaml")


def test_connection_names_from_arns() -> None:
    assert connection_name("arn:aws:events:us-east-2:123456789012:connection/Stripe/81210c42") == "Stripe"
    assert connection_name("arn:aws:events:us-east-2:123456789012:connection/Stripe") == "Stripe"
    assert connection_name("Stripe") == "Stripe"
    assert connection_name("arn:aws:sqs:us-east-1:1:q") is None
