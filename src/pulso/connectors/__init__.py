"""Source connectors; each a plugin with one base class (Chatwoot arrives in issue 4)."""
