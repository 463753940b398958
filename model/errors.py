"""The one error type for bad user input (parameters, scenario, experiment and target files).

Every message names where the problem is (file and key), what is wrong, and what is allowed,
so the command line can print it as one line and exit with status 2 without a traceback.

Input files are validated by pydantic models (model/scenarios, experiments/batch/experiment_file.py,
experiments/tuning/targets.py); `from_validation` turns pydantic's first error into that line.
A model field says what it allows in its `description`, and may replace the generic wording of
a problem through `json_schema_extra={"problems": {pydantic error type: template}}`; a model
class names its unknown keys through the class variables `UNKNOWN` and `ALLOWED_KEYS`.
"""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Callable, Iterable
from typing import Any


class InputError(ValueError):
    """Bad input from a user: a parameter, a scenario file, an experiment or target file."""

    def __init__(
        self, message: str, *, source: str | None = None, key: str | None = None, allowed: str | None = None
    ):
        self.source = source
        self.key = key
        self.allowed = allowed
        self.problem = message
        parts = []
        if source:
            parts.append(f"{source}:")
        if key:
            parts.append(f"'{key}':")
        parts.append(message)
        text = " ".join(parts)
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)

    def with_source(self, source: str) -> InputError:
        """The same error, attributed to a file (used when a check runs on a file's content)."""
        if self.source:
            return self
        return InputError(self.problem, source=source, key=self.key, allowed=self.allowed)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' (did you mean 'x'?)' hint for a misspelt name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def show(value: Any) -> str:
    """A value as a user reads it in a one-line message (huge numbers and long text abbreviated)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**24:
        return f"a number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- pydantic's errors as one line: the generic wording of each error type ({input}: the value)
_RANGE = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")
_EXPECTED = {
    "a number": ("float_type", "float_parsing"),
    "an integer": ("int_type", "int_parsing", "int_from_float"),
    "true or false": ("bool_type", "bool_parsing"),
    "a string": ("string_type",),
    "a list": ("list_type", "tuple_type"),
    "a table": ("dict_type", "model_type", "model_attributes_type"),
}
PROBLEMS = {
    "missing": "missing",
    "finite_number": "must be finite, got {input}",
    "literal_error": "unknown value {input}",
    "too_short": "expected a non-empty list, got {input}",
    "string_too_short": "must be a non-empty string",
    **{kind: "{input} is out of range" for kind in _RANGE},
    **{kind: f"expected {what}, got {{input}}" for what, kinds in _EXPECTED.items() for kind in kinds},
}


def from_validation(
    exc: Any, model: type, *, source: str | None, key: Callable[[tuple], str] | None = None
) -> InputError:
    """pydantic's first error of validating a file against `model`, as an InputError.

    key(loc) names the key in the message (default: the dotted location). A validator that
    raised an InputError keeps its own words.
    """
    # An unknown name first: a misspelt section or key also makes its correct name "missing".
    err = min(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    loc, kind, value = tuple(err["loc"]), err["type"], err.get("input")
    name = (key or (lambda parts: ".".join(map(str, parts))))(loc)
    raised = (err.get("ctx") or {}).get("error")
    if isinstance(raised, InputError):
        return InputError(raised.problem, source=source, key=raised.key or name, allowed=raised.allowed)
    owner, field = _locate(model, loc)
    if kind == "extra_forbidden":
        known = list(owner.model_fields)
        hint = did_you_mean(str(loc[-1]), known)
        if len(loc) == 1 and not hasattr(owner, "UNKNOWN"):
            sections = ", ".join(f"[{s}]" for s in known)
            return InputError(f"unknown section [{loc[-1]}]{hint}", source=source, key=name, allowed=sections)
        allowed = getattr(owner, "ALLOWED_KEYS", None) or ", ".join(sorted(known))
        return InputError(
            getattr(owner, "UNKNOWN", "unknown key") + hint, source=source, key=name, allowed=allowed
        )
    allowed = field.description if field is not None else None
    problems = dict(PROBLEMS)
    if kind in _EXPECTED["a table"] and (field is None or _inner_model(field.annotation) is not None):
        problems[kind] = "must be a table"  # a whole section (or a [[table]]) that is not a table
        allowed = allowed or f"a [{loc[-1]}] header followed by key = value lines"
    problems.update((field.json_schema_extra or {}).get("problems", {}) if field is not None else {})
    shown = show(value)
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and field is not None
        and field.annotation is float
    ):
        # a float field shows the number an int would become; an int too large for a float is
        # out of range rather than of the wrong type (TOML integers are unbounded)
        shown = repr(float(value)) if abs(value) < 10**24 else shown
        kind = "less_than_equal" if kind == "float_type" else kind
    return InputError(
        problems.get(kind, err["msg"]).format(input=shown), source=source, key=name, allowed=allowed
    )


def _locate(model: type, loc: tuple) -> tuple[type, Any]:
    """The model class that owns the last key of `loc` (list indices skipped), and its FieldInfo."""
    keys = [part for part in loc if not isinstance(part, int)]
    owner = model
    for part in keys[:-1]:
        field = owner.model_fields.get(part)
        inner = _inner_model(field.annotation) if field is not None else None
        if inner is None:
            break
        owner = inner
    return owner, owner.model_fields.get(keys[-1]) if keys else None


def _inner_model(annotation: Any) -> type | None:
    """The pydantic model class inside an annotation (`M`, `list[M]`, `M | None`), if any."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_inner_model, typing.get_args(annotation))), None)
