"""Tags of state machines and activities: TagResource, UntagResource, ListTagsForResource.

Only a state machine (its unqualified ARN) or an activity can be tagged; anything else that
is a Step Functions ARN, a version included, is ResourceNotFound ("Resource not found:
'<arn>'"), as AWS answers. A resource has at most 50 tags (TooManyTags).
"""

from __future__ import annotations

from podium.api.errors import ResourceNotFound
from podium.service.arns import ACTIVITY, STATE_MACHINE, parse_arn, wrong_type
from podium.service.catalog import catalog_lock, check_tag_count, tag_list, tags_of
from podium.service.registry import Params, Response, Service, action


def _taggable(service: Service, arn: str) -> str:
    """The ARN of an existing state machine or activity; the errors AWS gives otherwise."""
    parsed = parse_arn(arn)
    store = service.store
    if parsed.resource_type == STATE_MACHINE:
        exists = len(parsed.resource) == 1 and store.get_state_machine(arn) is not None
    elif parsed.resource_type == ACTIVITY:
        exists = len(parsed.resource) == 1 and store.get_activity(arn) is not None
    else:
        raise wrong_type(parsed)
    if not exists:
        raise ResourceNotFound(f"Resource not found: '{arn}'")
    return arn


@action("TagResource")
def tag_resource(service: Service, params: Params) -> Response:
    tags = tags_of(params["tags"])
    with catalog_lock(service):
        arn = _taggable(service, params["resourceArn"])
        check_tag_count(arn, service.store.list_tags(arn), tags)
        service.store.tag_resource(arn, tags)
    return {}


@action("UntagResource")
def untag_resource(service: Service, params: Params) -> Response:
    with catalog_lock(service):
        arn = _taggable(service, params["resourceArn"])
        service.store.untag_resource(arn, list(params["tagKeys"]))
    return {}


@action("ListTagsForResource")
def list_tags_for_resource(service: Service, params: Params) -> Response:
    arn = _taggable(service, params["resourceArn"])
    return {"tags": tag_list(service.store.list_tags(arn))}
