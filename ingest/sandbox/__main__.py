"""`python -m ingest.sandbox`: a sandbox child running the one job it reads on stdin, or with
`--zygote` a worker's zygote, or with `--zygote --listen PATH` the zygote `edms run` shares among
its workers."""

import os
import sys

from ingest.sandbox.child import child_main
from ingest.sandbox.zygote_server import zygote_main

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--zygote"]:
        code = zygote_main(arguments[2] if arguments[1:2] == ["--listen"] else None)
    else:
        code = child_main()
    sys.stderr.flush()
    # Skip the interpreter's teardown (~150 ms of finalising native modules): the result is
    # written and nothing else needs flushing.
    os._exit(code)
