"""Activities as resources: CreateActivity, DescribeActivity, DeleteActivity, ListActivities.

(The work that flows through them, GetActivityTask and SendTask*, lives with the executions.)
CreateActivity is idempotent on the name: the activity that exists comes back, and tags given
the second time are ignored, as AWS does. Deleting an activity that does not exist succeeds.
"""

from __future__ import annotations

from podium.api.errors import ActivityDoesNotExist
from podium.service.arns import check_name, parse_activity_arn
from podium.service.catalog import (
    catalog_lock,
    check_tag_count,
    now_ms,
    page_response,
    paginate,
    seconds,
    tags_of,
)
from podium.service.registry import Params, Response, Service, action
from podium.service.state_machines import arn_factory
from podium.store.records import ActivityRecord


def activity_does_not_exist(arn: str) -> ActivityDoesNotExist:
    return ActivityDoesNotExist(f"Activity Does Not Exist: '{arn}'")


@action("CreateActivity")
def create_activity(service: Service, params: Params) -> Response:
    name: str = params["name"]
    check_name(name)
    arn = arn_factory(service).activity(name)
    tags = tags_of(params.get("tags"))
    check_tag_count(arn, {}, tags)
    store = service.store
    with catalog_lock(service):
        activity: ActivityRecord | None = store.get_activity(arn)
        if activity is None:
            activity = ActivityRecord(arn=arn, name=name, created_ms=now_ms(service))
            store.put_activity(activity)
            if tags:
                store.tag_resource(arn, tags)
    return {"activityArn": activity.arn, "creationDate": seconds(activity.created_ms)}


@action("DescribeActivity")
def describe_activity(service: Service, params: Params) -> Response:
    arn: str = params["activityArn"]
    parse_activity_arn(arn)
    activity: ActivityRecord | None = service.store.get_activity(arn)
    if activity is None:
        raise activity_does_not_exist(arn)
    return {"activityArn": activity.arn, "name": activity.name, "creationDate": seconds(activity.created_ms)}


@action("DeleteActivity")
def delete_activity(service: Service, params: Params) -> Response:
    arn: str = params["activityArn"]
    parse_activity_arn(arn)
    with catalog_lock(service):
        service.store.delete_activity(arn)  # and its tags
    return {}


@action("ListActivities")
def list_activities(service: Service, params: Params) -> Response:
    activities: list[ActivityRecord] = service.store.list_activities()
    page, token = paginate(activities, params, kind="activities", key=lambda activity: activity.name)
    items = [{"activityArn": a.arn, "name": a.name, "creationDate": seconds(a.created_ms)} for a in page]
    return page_response("activities", items, token)
