"""`python -m ingest.sandbox`: a sandbox child running the one job it reads on stdin, or with
`--zygote` the worker's zygote."""

import os
import sys

from ingest.sandbox.child import child_main
from ingest.sandbox.zygote import zygote_main

if __name__ == "__main__":
    code = zygote_main() if sys.argv[1:] == ["--zygote"] else child_main()
    sys.stderr.flush()
    # Skip the interpreter's teardown (~150 ms of finalising native modules): the result is
    # written and nothing else needs flushing.
    os._exit(code)
