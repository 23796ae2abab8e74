"""The registry API (v1), one module per resource: `dossiers`, `documents`, `versions`, `events`,
`search`, `problems`, `webhooks` and `scanning` (the digitization endpoints; the last two are
routed by `api.webhook_urls` and `api.scan_urls`). Views validate input, check access, call one
action, render."""
