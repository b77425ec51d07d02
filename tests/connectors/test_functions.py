"""The lambda:invoke integration's response, as Step Functions records it."""

from __future__ import annotations

import re
import uuid

from podium.connectors.functions import invoke_response


def test_invoke_response_ids_have_aws_forms() -> None:
    first, second = invoke_response({"ok": True}), invoke_response({"ok": True})
    for response in (first, second):
        headers = response["SdkHttpMetadata"]["HttpHeaders"]
        request_id = response["SdkResponseMetadata"]["RequestId"]
        assert uuid.UUID(request_id).version == 4 and headers["x-amzn-RequestId"] == request_id
        # An X-Ray trace id: version 1, 8 hex digits, 24 hex digits.
        assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
        assert response["SdkHttpMetadata"]["AllHttpHeaders"]["X-Amzn-Trace-Id"] == [
            headers["X-Amzn-Trace-Id"]
        ]
        assert headers["Content-Length"] == str(len('{"ok": true}'))
    ids = {first["SdkResponseMetadata"]["RequestId"], second["SdkResponseMetadata"]["RequestId"]}
    assert len(ids) == 2
