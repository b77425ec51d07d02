"""Supervised services: `podium up` runs the server and keeps declared services healthy;
`podium ps` shows them.

    config.py      podium.yaml, read and checked into frozen specs
    document.py    reading YAML field by field: each problem with its dotted path and line
    process.py     one run of one replica: a child in its own process group
    health.py      heartbeat files and HTTP probes, and the verdict they add up to
    supervisor.py  the loop that holds the replica count: restarts, backoff, health
    output.py      the console: `name-N | line` and the supervisor's events
    state.py       the state file `ps` reads, and the one-`up`-per-database lock
    server.py      the podium server, in-process, and the hooks into its activity queues
    up.py          `podium up`: start in order, stop in reverse on a signal
    ps.py          `podium ps`: the table and the JSON
"""
