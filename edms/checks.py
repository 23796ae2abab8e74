"""`edms check --deploy` fails when a service edms needs does not answer (as `/readyz` would)."""

from __future__ import annotations

from django.core.checks import Error, register

from edms.readiness import run_checks

# The check ids, one per dependency (edms.E1xx: readiness); a check not named here is E199.
CHECK_IDS = {
    "database": "edms.E101",
    "broker": "edms.E102",
    "blob_store": "edms.E103",
    "search": "edms.E104",
    "tika": "edms.E105",
}
HINT = "Is the service running and reachable from this machine, with these settings?"


@register("readiness", deploy=True)
def check_services_answer(app_configs, **kwargs):
    return [
        Error(
            f"{result.name} does not answer: {result.error}",
            hint=HINT,
            id=CHECK_IDS.get(result.name, "edms.E199"),
        )
        for result in run_checks()
        if not result.ok
    ]
