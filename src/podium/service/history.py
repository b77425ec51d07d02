"""GetExecutionHistory: an execution's events in AWS's shape, a page at a time, either way round.

Pages are cut by the last event id handed out (the token is opaque to clients), so paging
stays right while the execution goes on adding events. `includeExecutionData: false` leaves
out the events' execution data: their `input` and `output`.
"""

from __future__ import annotations

from typing import Any

from podium.api.errors import InvalidToken
from podium.service.catalog import decode_token, encode_token, page_response, page_size
from podium.service.executions import execution_of
from podium.service.registry import Params, Response, Service, action

_DATA = ("input", "output")


@action("GetExecutionHistory")
def get_execution_history(service: Service, params: Params) -> Response:
    record = execution_of(service, params["executionArn"])
    reverse = bool(params.get("reverseOrder", False))
    size = page_size(params)
    kind = f"history:{record.arn}:{'reverse' if reverse else 'forward'}"
    after = decode_token(params.get("nextToken"), kind)
    if after is not None and (not isinstance(after, int) or isinstance(after, bool) or after < 1):
        raise InvalidToken("Invalid Token: 'Invalid token'")
    events = service.store.history(record.arn, after_id=after or 0, limit=size + 1, reverse=reverse)
    page = events[:size]
    token = encode_token(kind, page[-1].id) if len(events) > size else None
    include_data = params.get("includeExecutionData", True) is not False
    return page_response("events", [_shown(event.to_aws(), include_data) for event in page], token)


def _shown(event: dict[str, Any], include_data: bool) -> dict[str, Any]:
    if include_data:
        return event
    out = dict(event)
    for key, details in event.items():
        if key.endswith("EventDetails") and isinstance(details, dict):
            out[key] = {k: v for k, v in details.items() if k not in _DATA}
    return out
