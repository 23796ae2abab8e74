"""The examiner's web UI: server-rendered pages over the API's access rules and actions."""
