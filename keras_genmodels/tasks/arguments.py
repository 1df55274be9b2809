"""argparse `type=` validators: bad values exit 2 with a usage line before any work.

Each returns the parsed value or raises `argparse.ArgumentTypeError` with an
"expected ..., received ..." message, which argparse turns into
`genmodels ...: error: argument --x: expected ...` and exit code 2.
"""

import argparse
import math
import pathlib
import re

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _fail(expected, text):
    raise argparse.ArgumentTypeError(f"expected {expected}, received {text!r}")


def positive_int(text):
    """An int >= 1."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        _fail("a positive integer", text)
    if value < 1:
        _fail("a positive integer", text)
    return value


def non_negative_int(text):
    """An int >= 0."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        _fail("a non-negative integer", text)
    if value < 0:
        _fail("a non-negative integer", text)
    return value


def _float(text, expected):
    try:
        value = float(text)
    except (TypeError, ValueError):
        _fail(expected, text)
    if not math.isfinite(value):
        _fail(expected, text)
    return value


def positive_float(text):
    """A finite float > 0 (learning rates, time budgets)."""
    value = _float(text, "a finite number > 0")
    if value <= 0:
        _fail("a finite number > 0", text)
    return value


def non_negative_float(text):
    """A finite float >= 0 (penalty weights)."""
    value = _float(text, "a finite number >= 0")
    if value < 0:
        _fail("a finite number >= 0", text)
    return value


def probability(text):
    """A float in [0, 1]."""
    value = _float(text, "a number in [0, 1]")
    if not 0.0 <= value <= 1.0:
        _fail("a number in [0, 1]", text)
    return value


def momentum(text):
    """A float in [0, 1) (Adam's beta_1, an EMA momentum; 0 allowed, 1 never decays)."""
    value = _float(text, "a number in [0, 1)")
    if not 0.0 <= value < 1.0:
        _fail("a number in [0, 1)", text)
    return value


def open_probability(text):
    """A float in (0, 1) (e.g. a sparsity target)."""
    value = _float(text, "a number strictly between 0 and 1")
    if not 0.0 < value < 1.0:
        _fail("a number strictly between 0 and 1", text)
    return value


def positive_int_list(text):
    """Comma-separated positive ints, e.g. `256,128` -> `(256, 128)` (at least one)."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    expected = "comma-separated positive integers such as 256,128"
    if not parts:
        _fail(expected, text)
    values = []
    for part in parts:
        try:
            value = int(part)
        except ValueError:
            _fail(expected, text)
        if value < 1:
            _fail(expected, text)
        values.append(value)
    return tuple(values)


def export_name(text):
    """A model name usable as a directory and a TF Serving name (no '/', no spaces)."""
    if not _NAME.match(str(text)):
        _fail("a name of letters, digits, '_', '.', '-' starting with a letter or digit "
              "(it becomes a directory and the TF Serving model name)", text)
    return str(text)


def file_tag(text):
    """A suffix for result file names (as `export_name`: no '/', no spaces)."""
    if not _NAME.match(str(text)):
        _fail("a tag of letters, digits, '_', '.', '-' starting with a letter or digit "
              "(it becomes part of file names)", text)
    return str(text)


def directory(text):
    """A directory path that may not exist yet, but is not an existing file."""
    path = pathlib.Path(text)
    if path.exists() and not path.is_dir():
        _fail("a directory", f"{text} (an existing file)")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                _fail("a directory", f"{text} ({parent} is a file)")
            break
    return path
