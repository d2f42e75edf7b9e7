"""A server started by another nodeflow process ends when that process ends, however it ends.

The editor starts a published app (``nodeflow app``) as a child with a pipe on the child's stdin and
keeps the pipe's write end. When the editor ends, by exit, SIGTERM or SIGKILL, the kernel closes that
end and the child's read returns end-of-file: the child then stops itself. A pipe rather than polling
the parent's pid (pids are reused, and a poll is late) or ``PR_SET_PDEATHSIG`` (Linux only, and it
fires when the *thread* that started the child ends, which in the editor is a short-lived worker).

``NODEFLOW_END_WITH_PARENT=1`` in the child's environment turns the watcher on.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

__all__ = ["ENV", "watch_parent_pipe"]

ENV = "NODEFLOW_END_WITH_PARENT"
GRACE_S = 10.0  # a graceful stop that has not ended the process by then is cut short


def watch_parent_pipe() -> bool:
    """When ``NODEFLOW_END_WITH_PARENT=1``, start a thread that ends this process once stdin reaches
    end-of-file (the parent is gone). Returns whether the watcher runs."""
    if os.environ.pop(ENV, None) != "1":  # popped: this process's own children do not inherit it
        return False
    threading.Thread(target=_wait_for_eof, name="nodeflow-parent-watch", daemon=True).start()
    return True


def _wait_for_eof() -> None:
    try:
        stream = sys.stdin.buffer
        while stream.read(65536):  # the parent writes nothing; anything sent is ignored
            pass
    except (OSError, ValueError, AttributeError):  # stdin closed or missing: the parent cannot be watched
        pass
    # cut short a graceful stop that hangs (an open stream, a run in progress)
    timer = threading.Timer(GRACE_S, os._exit, args=(0,))
    timer.daemon = True
    timer.start()
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn stops the server as for a polite stop
