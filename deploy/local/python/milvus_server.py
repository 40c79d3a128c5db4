"""Runs `milvus-lite server ARGS...` so that SIGTERM shuts it down cleanly.

milvus-lite's server only shuts down gracefully on KeyboardInterrupt (drains requests, closes
the data dir and releases its LOCK). A process started in the background by a script has
SIGINT ignored, and SIGTERM would kill it outright, so both are mapped to KeyboardInterrupt.
Usage: python milvus_server.py --data-dir DIR --host 127.0.0.1 --port 19530
"""
import signal
import sys


def _interrupt(signum, frame):
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _interrupt)
signal.signal(signal.SIGINT, _interrupt)

from milvus_lite.cmdline import main  # noqa: E402  (after the handlers: imports take a while)

sys.exit(main(["server", *sys.argv[1:]]))
