"""WIPO DAS, the Digital Access Service for priority documents, in both of an office's roles.

As office of first filing (OFF) edms registers a dossier's priority document with DAS and keeps
the access code and the registration certificate on the dossier; as office of second filing
(OSF) it retrieves a document by number and access code and files it as `PRIO`, channel `das`.
`models` holds each request and its state, `client` speaks the DAS exchange API, `submit`
starts requests (called by the API), `progress` moves one request on (run by `tasks`),
`listing` is what the pages show.
"""
