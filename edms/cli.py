"""`edms`: the one command-line entry point.

`edms run` starts the embedded default (web server and worker); every other command is a
Django management command (`edms migrate`, `edms createapikey`, `edms fixity`, ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edms.settings")
    if len(argv) > 1 and argv[1] == "run":
        from edms.launcher import run

        sys.exit(run(argv[2:]))
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
