"""Everything Slack-shaped: Bolt listeners, Block Kit builders, the Web API messenger."""
