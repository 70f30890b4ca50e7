"""Helpers the tests import (``from helpers import ...``; tests/ is on pytest's ``pythonpath``): the small Randman
task, dotted-key copies of a config, a run interrupted after an epoch, a quiet HTTP handler."""

import copy
import http.server

# A Randman task small enough to train in seconds on 2 CPU cores, yet far from trivial:
# 5 classes (chance 0.2), 20 input units, 50 steps.
SMALL_TASK = {"classes": 5, "steps": 50, "alpha": 2.0, "max_terms": 200, "samples_per_class": 100}


def variant(config, **changes):
    """A deep copy of ``config`` with dotted keys replaced, e.g. ``variant(c, **{"training.lr": 0.1})``."""
    new = copy.deepcopy(config)
    for dotted, value in changes.items():
        *parents, key = dotted.split(".")
        target = new
        for parent in parents:
            target = target[parent]
        target[key] = value
    return new


def interrupt_at(epoch):
    """An ``on_epoch_end`` callback that stops a run after ``epoch`` as Ctrl-C would (KeyboardInterrupt)."""

    def callback(done, _rows):
        if done == epoch:
            raise KeyboardInterrupt

    return callback


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass
