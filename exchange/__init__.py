"""The IP offices' exchange services: WIPO DAS priority documents (both roles), a WIPO CASE
providing service, and a USPTO-ODP-shaped public read of file wrappers. A subscriber and caller
above `dossier`, beside `ingest` and `search` (see README, "Exchange with other offices")."""
