"""Untrusted-file work in a child process, with a wall-clock timeout and a memory cap.

The parent (a Celery worker, or a test) calls `run(operation, params, limits=..., workdir=...)`;
it starts `python -m ingest.sandbox` in its own session with a minimal environment (no database
credentials, no secrets), hands it a JSON job on stdin and waits at most `limits.timeout_s`.
The child caps itself before importing any parser:

- memory: `RLIMIT_DATA` (heap and private writable mappings). Not `RLIMIT_AS`: the embedded Tika
  (a GraalVM native image) reserves ~32 GiB of address space up front and commits only what it
  uses, so an address-space cap would refuse every file while a data cap bounds real use;
- CPU time (a backstop should the parent die), file size, no core dumps;
- network: a fresh, empty network namespace when the kernel allows it (root, or unprivileged
  user namespaces), so no parser can fetch anything (XXE, remote images);
- it dies with its parent (`PR_SET_PDEATHSIG`).

Starting Python and importing the parsers' modules took most of a small file's time (a third of
a second per step; OCRmyPDF alone half a second), so jobs are forked from a *zygote*: a process
started the same way (same minimal environment, its own session, dying with its parent) that has
imported those modules and nothing else runs in, and that forks a fresh child per job, for all
its workers' threads at once (each job's timeout kept by the zygote). Each worker process starts
one of its own, unless its environment names the socket of one shared by the machine's workers
(`zygote.SHARED_ZYGOTE_ENV`), which `edms run` starts and restarts like its other processes.
The forked child then does what a fresh one does (its own session, limits, empty network
namespace, death with its parent) and runs one job only: no file ever sees a process another
file ran in. The embedded Tika's runtime (a GraalVM isolate) is started once in the zygote too,
by parsing a PDF of edms's own (`warm_up`), because starting it cost each child four times the
parse of a small file: every child is a copy of a runtime that has read only that PDF. OCRmyPDF
is loaded likewise, at the first OCR job (`ingest.ocr.preload`), not at the start: a forked
child's RSS counts the zygote's resident heap again, so only what every job needs is preloaded.
Warm-ups and the imports are then frozen out of the garbage collector's sight (`gc.freeze`), so a
child's collection does not copy the pages it shares with the zygote. The zygote refuses to
fork while it has a thread other than its own and that runtime's sleeping reference handler,
and the worker then falls back to a fresh `python -m ingest.sandbox` child, as it does for a
child that dies of the inherited runtime (`zygote_server.FORK_SAFE_THREADS`).

Whatever happens inside (a parser crash, an out-of-memory abort, an endless loop) the parent gets
either the operation's JSON result or a `SandboxFailure` whose reason a person can act on.

The package, by the process its code runs in: `worker` (run a job, read its outcome), `zygote`
(the worker's handle on a zygote), `zygote_server` (the zygote itself), `child` (the job's process
caps itself and runs the operation), and `processes` (what they share). `run`, `Limits`,
`SandboxFailure` and `zygote_pid` are its public API.
"""

from __future__ import annotations

from ingest.sandbox.processes import Limits, SandboxFailure
from ingest.sandbox.worker import run
from ingest.sandbox.zygote import zygote_pid

__all__ = ["Limits", "SandboxFailure", "run", "zygote_pid"]
