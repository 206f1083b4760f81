"""What the CLI does on a local store (``--db``, ``$FLOWAPP_DB`` or ``~/.flowapp``): open
it with checks that speak of the option the user gave, list and show executions, and
control them by signals queued in the store."""
