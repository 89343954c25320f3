"""The domain's errors: each carries a message fit to show a person."""


class DomainError(Exception):
    """A request the rules refuse; ``str(error)`` explains why in plain words."""


class IllegalTransition(DomainError):
    """The postmortem cannot make this move from the state it is in."""


class NotAllowed(DomainError):
    """This person may not do this to this postmortem."""
