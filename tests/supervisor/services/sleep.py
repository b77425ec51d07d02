"""Run until stopped. Options, by environment:

HEARTBEATS=N    touch $PODIUM_HEARTBEAT_FILE N times (0.1 s apart), then hang without touching it
IGNORE_TERM=1   ignore SIGTERM (only SIGKILL stops it)
CHILD_PIDS=F    start a child process in the same group and write its pid to F
STARTS=F        append "worker time" to F when starting
"""

import os
import pathlib
import signal
import subprocess
import sys
import time

if os.environ.get("STARTS"):
    with open(os.environ["STARTS"], "a") as starts:
        starts.write(f"{os.environ['PODIUM_WORKER_ID']} {time.time()}\n")
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.environ.get("CHILD_PIDS"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    with open(os.environ["CHILD_PIDS"], "a") as pids:
        pids.write(f"{child.pid}\n")
print(f"ready transport={os.environ.get('PODIUM_TRANSPORT')}", flush=True)
heartbeat = os.environ.get("PODIUM_HEARTBEAT_FILE")
beats = int(os.environ.get("HEARTBEATS", "-1"))
while True:
    if heartbeat and beats != 0:
        pathlib.Path(heartbeat).touch()
        beats -= 1
    time.sleep(0.1)
