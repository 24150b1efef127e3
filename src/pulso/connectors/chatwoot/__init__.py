"""The Chatwoot connector (issue 4): a fixture database with Chatwoot's real schema so far; sync and webhooks next."""
