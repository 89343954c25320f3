"""The domain's errors: each carries a message fit to show a person."""


class DomainError(Exception):
    """A request the rules refuse; ``str(error)`` explains why in plain words.

    That message is for a Slack message, where a mention (``<@U…>``) shows as the person's
    name and a channel link (``<#C…>``) as the channel's. ``plain_text`` says the same for
    where Slack shows text as it is, a form's inline error: there markup would show as raw
    ids, so a refusal that can reach a form and names someone or a channel gives a
    ``plain_text`` that does without them.
    """

    def __init__(self, *args: object, plain_text: str | None = None) -> None:
        super().__init__(*args)
        self._plain_text = plain_text

    @property
    def plain_text(self) -> str:
        return self._plain_text if self._plain_text is not None else str(self)


class IllegalTransition(DomainError):
    """The postmortem cannot make this move from the state it is in."""


class NotAllowed(DomainError):
    """This person may not do this to this postmortem."""
