"""The pages of the web UI, one module a page family: `dossiers` (finding one, its file
wrapper, its ZIP), `viewer`, `search` and `operations` (the digitization pages are
`frontend.scanning`). Each reads through `dossier.access` and writes through `dossier.actions`,
exactly as the API does; no view decides a permission on its own.

What processing found (detected media type, pages, renditions) is read from the version's facts
in `dossier`; `ingest` is read only to show how its processing is going (state, reason, queues)
and to ask for it again — presentation may read ingest's run state, nothing else does."""
