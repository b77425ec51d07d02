"""Transports: how commands reach services and their answers come back.

See `base.py` for the message protocol every transport carries. Backends: `inprocess`
(same process), `activities` (workers long-poll podium's API: no broker), `redis` (Redis
Streams) and `rabbitmq` (AMQP 0-9-1).
"""
