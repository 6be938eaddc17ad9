"""Logging set-up shared by the entry points: one readable line per event, quiet clients."""

from __future__ import annotations

import logging
import sys

_NOISY = ("elastic_transport", "elasticsearch", "botocore", "boto3", "urllib3", "sentence_transformers",
          "transformers", "filelock", "httpx", "polyglot")


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr as `HH:MM:SS LEVEL message`; third-party chatter only from WARNING up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # The ES transport logs every retried request with a traceback; the store logs its own retries.
    logging.getLogger("elastic_transport").setLevel(logging.ERROR)
