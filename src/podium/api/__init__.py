"""The AWS Step Functions API over HTTP (AWS JSON 1.0), for boto3, the AWS CLI and the SDKs.

    errors.py    ApiError and AWS's error types (the class name is the wire `__type`)
    protocol.py  the wire codec: X-Amz-Target, JSON bodies, responses, errors
    shapes.py    requests checked against botocore's Step Functions model, in AWS's words
    auth.py      AWS Signature Version 4 verification; credentials files
    app.py       the ASGI app (Starlette): POST / and GET /health
    server.py    `podium server`: uvicorn, the engine in the lifespan, the banner

Conventions for the handlers behind it (podium.service): they receive parameters already
checked against the input shape (members sent as null left out), return a dict in the
output shape, give every timestamp as epoch seconds (a float: `ms / 1000`), may return
absent members as None (left out on the wire), and fail by raising an ApiError.
"""
