"""Use cases: each is one transaction that writes state, audit and outbox rows together."""
