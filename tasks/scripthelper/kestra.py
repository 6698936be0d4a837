"""Osprey's `kestra` module for Python scripts.

It offers what scripts written for Kestra import from Kestra's Python
package: Kestra.outputs, Kestra.counter, Kestra.timer and Kestra.logger.
Each call prints one ::{...}:: line on stdout, the protocol Osprey's script
tasks read, so nothing is installed and nothing leaves the process.
"""

import json
import logging
import sys
import time

__all__ = ["Kestra"]


class Kestra:
    """Sends outputs, metrics and log lines to the task running the script."""

    @staticmethod
    def _send(message):
        sys.stdout.write("::" + json.dumps(message, default=str) + "::\n")
        sys.stdout.flush()

    @staticmethod
    def outputs(values):
        """Merges values (a dict) into the task run's outputs.vars."""
        Kestra._send({"outputs": values})

    @staticmethod
    def _metric(name, kind, value, tags):
        Kestra._send({"metrics": [{"name": name, "type": kind, "value": value, "tags": tags or {}}]})

    @staticmethod
    def counter(name, value, tags=None):
        """Adds value to the counter called name."""
        Kestra._metric(name, "counter", value, tags)

    @staticmethod
    def timer(name, duration, tags=None):
        """Records a duration in seconds; given a function, times a call of it."""
        if callable(duration):
            start = time.perf_counter()
            duration()
            duration = time.perf_counter() - start
        Kestra._metric(name, "timer", duration, tags)

    @staticmethod
    def logger():
        """A logging.Logger whose records become the task run's log lines."""
        log = logging.getLogger("Kestra")
        if not any(isinstance(h, _Handler) for h in log.handlers):
            log.addHandler(_Handler())
            log.setLevel(logging.DEBUG)
            log.propagate = False
        return log


class _Handler(logging.Handler):
    _levels = {"WARNING": "WARN", "CRITICAL": "ERROR", "FATAL": "ERROR"}

    def emit(self, record):
        level = self._levels.get(record.levelname, record.levelname)
        Kestra._send({"logs": [{"level": level, "message": self.format(record)}]})
