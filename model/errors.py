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


# --- pydantic's errors as one line
_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}
_RANGE = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


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
    name = (key or _dotted)(loc)
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
        unknown = getattr(owner, "UNKNOWN", "unknown key")
        allowed = getattr(owner, "ALLOWED_KEYS", None) or ", ".join(sorted(known))
        return InputError(f"{unknown}{hint}", source=source, key=name, allowed=allowed)
    extra = (field.json_schema_extra or {}) if field is not None else {}
    allowed = field.description if field is not None else None
    template = extra.get("problems", {}).get(kind)
    if template:
        problem = template.format(input=show(value))
    elif kind == "missing":
        problem = "missing"
    elif kind in ("model_type", "dict_type", "model_attributes_type") and (
        field is None or _inner_model(field.annotation) is not None
    ):
        problem = "must be a table"  # a whole section
        allowed = allowed or f"a [{loc[-1]}] header followed by key = value lines"
    elif kind in _RANGE or (kind == "float_type" and isinstance(value, int) and not isinstance(value, bool)):
        # a float field shows the number it would have become; an int too large for a float is
        # out of range rather than of the wrong type (TOML integers are unbounded)
        shown = show(value)
        if _annotation(field) is float and isinstance(value, int) and abs(value) < 10**24:
            shown = repr(float(value))
        problem = f"{shown} is out of range"
    elif kind == "finite_number":
        problem = f"must be finite, got {show(value)}"
    elif kind in _EXPECTED:
        problem = f"expected {extra.get('expected', _EXPECTED[kind])}, got {show(value)}"
    elif kind == "literal_error":
        problem = f"unknown value {show(value)}"
    elif kind == "too_short":
        problem = f"expected a non-empty list, got {show(value)}"
    elif kind == "string_too_short":
        problem = "must be a non-empty string"
    else:
        problem = err["msg"]
    return InputError(problem, source=source, key=name, allowed=allowed)


def _dotted(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


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
    for arg in typing.get_args(annotation):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None


def _annotation(field: Any) -> Any:
    if field is None:
        return None
    ann = field.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    return args[0] if typing.get_origin(ann) is not None and len(args) == 1 else ann
