"""Background work: APScheduler's interval jobs and the outbox pump; both only call services."""
