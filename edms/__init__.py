"""edms's wiring: settings, URLs, the Celery app, the WSGI application, the `edms` command.

Empty on purpose: `python -m edms.supervisor` runs this file too, and the supervisor, which
only watches processes, should not hold Celery (~10 MiB). Every Django process gets the Celery
app from the end of `edms.settings`; `celery -A edms` finds it in `edms.celery`.
"""
