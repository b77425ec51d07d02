"""The Step Functions service: AWS's actions over podium's engine and store.

Each action is a function registered by `@action("CreateStateMachine")` in a module of this
package; it takes the `Service` and the request's parameters (already checked against the
API's shapes by the HTTP layer) and returns the response as a dict, or raises an ApiError.
"""
