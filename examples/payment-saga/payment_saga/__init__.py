"""The payment saga's four services, each a worker of podium's SDK with a ledger of its own.

    auth.py         payment-auth     authorize (places a hold), void (releases it)
    risk.py         risk             score (0-100; above the limit: Payment.Declined)
    pci.py          pci-compliance   check (tokenises the card; malformed: Payment.NonCompliant)
    transaction.py  transaction      capture (posts the amount), reverse (posts the opposite)

    service.py      what they share: a Worker, its ledger and its fault injector
    rules.py        the business rules: card checks, the risk score
    books.py        each service's SQLite ledger in the run directory, at most once per token
    faults.py       injected faults from faults.yaml or the environment

Run one with `python -m podium.worker payment_saga.auth` from this directory (podium.yaml
does so for `podium up`, and `podium demo` through the same file).
"""
