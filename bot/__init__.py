"""postmortem-bot: carries every incident from resolved to a finished, blameless postmortem."""
