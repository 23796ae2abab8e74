"""WIPO CASE, the providing side: edms answers other offices' examiners (through WIPO CASE and
the IP5 Global Dossier) from its own data. `sharing` decides what is listed, `shapes` renders
the published field names, `clients` authenticates callers, `citations` keeps search-report
citations per dossier."""
