"""The registry API (v1), one module per resource: `dossiers`, `documents`, `versions`, `events`,
`search` and `problems` (the webhook and digitization endpoints are `api.webhook_views` and
`api.scan_views`). Views validate input, check access, call one action, render."""
