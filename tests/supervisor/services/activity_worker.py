"""An activity worker over podium's API (plain HTTP, AWS JSON 1.0), named $PODIUM_WORKER_ID.

The first task it ever takes (no $DIED_MARKER file yet), it keeps for $HOLD seconds and then
dies without answering; every other task it answers at once with {"done": true}.
"""

import json
import os
import pathlib
import sys
import time
import urllib.request

ENDPOINT = os.environ["PODIUM_ENDPOINT"]
ACTIVITY = os.environ["ACTIVITY_ARN"]
MARKER = pathlib.Path(os.environ["DIED_MARKER"])
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call(action: str, params: dict) -> dict:
    request = urllib.request.Request(
        ENDPOINT + "/",
        data=json.dumps(params).encode(),
        headers={"X-Amz-Target": f"AWSStepFunctions.{action}", "Content-Type": "application/x-amz-json-1.0"},
        method="POST",
    )
    with OPENER.open(request, timeout=90) as response:
        return json.loads(response.read() or b"{}")


while True:
    task = call("GetActivityTask", {"activityArn": ACTIVITY, "workerName": os.environ["PODIUM_WORKER_ID"]})
    token = task.get("taskToken")
    if not token:
        continue
    if not MARKER.exists():
        MARKER.write_text(token)
        print("took a task; dying with it", flush=True)
        time.sleep(float(os.environ.get("HOLD", "0")))
        sys.exit(1)
    call("SendTaskSuccess", {"taskToken": token, "output": json.dumps({"done": True})})
    print("answered a task", flush=True)
