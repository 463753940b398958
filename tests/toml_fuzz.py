"""Mutation harness: one valid TOML input file turned into many broken variants.

Researchers hand-edit scenario, experiment and calibration-target files; each variant here is
a plausible slip (a wrong type, a misspelt or unknown key, a missing section, a value out of
range, a huge number, an empty, binary or non-UTF-8 file, broken TOML syntax). `mutants` is
generic: it knows nothing of any file format except, optionally, the declared parameters
(model/parameters.py) for keys that name one. `invoke` runs the real `crypto401k` entry
point in-process and `check_clean_failure` states what every bad input must end with.

A mutant is `must_fail` when no reader of that file could accept it (broken syntax, an
unknown section or key, a declared parameter out of range or of the wrong type); otherwise
the reader may accept it, and the only demand is a clean outcome (exit 0, or exit 2 with a
one-line error) and no traceback.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from model import parameters as P


@dataclass(frozen=True)
class Mutant:
    """A broken variant of a valid file."""

    name: str  # what was done, e.g. "wrong_type:parameters.flow_multiplier=str"
    content: bytes
    must_fail: bool
    key: str | None = None  # the key the error must name (its last dotted part), if known
    expect: tuple[str, ...] = ()  # further text the error must contain (e.g. "did you mean")


@dataclass(frozen=True)
class Outcome:
    """What a command-line call ended with."""

    code: int
    stdout: str
    stderr: str


# --- the mutations
def mutants(valid: str | bytes, *, strict_keys: bool = True) -> list[Mutant]:
    """Every broken variant of the valid TOML text `valid`.

    strict_keys: whether the reader rejects unknown keys inside known sections (it should; a
    reader with open tables, e.g. free-form metadata, passes False to make those mutants
    may-pass).
    """
    text = valid.decode() if isinstance(valid, bytes) else valid
    data = tomllib.loads(text)
    out = list(_file_level(text))
    out += list(_section_level(data))
    for path, value in _leaves(data):
        out += list(_leaf_level(data, path, value, strict_keys))
    names = [m.name for m in out]
    assert len(names) == len(set(names)), "mutant names must be unique"
    return out


def _dump(data: dict) -> bytes:
    return tomli_w.dumps(data).encode()


def _file_level(text: str) -> Iterator[Mutant]:
    """Whole-file damage: empty, blank, binary, not UTF-8, broken syntax."""
    yield Mutant("empty", b"", True)
    yield Mutant("blank", b"  \n\t\n", True)
    yield Mutant("binary", bytes(range(256)) * 4, True)
    yield Mutant("nul_bytes", b"\x00" * 64 + text.encode(), True)
    yield Mutant("latin1", ("# caf\u00e9 \u00e9t\u00e9\n" + text).encode("latin-1", "replace"), True)
    yield Mutant("utf16", text.encode("utf-16"), True)
    yield Mutant("truncated", text.encode()[: max(1, len(text) * 2 // 3)] + b" = [", True)
    yield Mutant("unclosed_table", b"[parameters\n" + text.encode(), True)
    yield Mutant("missing_value", text.encode() + b"\nsomething =\n", True)
    yield Mutant("duplicate_key", _duplicate_first_key(text), True)
    yield Mutant("json_instead", b'{"parameters": {"a": 1}}', True)
    yield Mutant("giant_int", text.encode() + b"\ngiant = 1" + b"0" * 5000 + b"\n", True)
    yield Mutant("deep_nesting", text.encode() + b"\ndeep = " + b"[" * 50_000 + b"]" * 50_000 + b"\n", True)


def _duplicate_first_key(text: str) -> bytes:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if "=" in s and not s.startswith(("#", "[")):
            return "\n".join(lines[: i + 1] + [line] + lines[i + 1 :]).encode()
    return b"a = 1\na = 2\n"


def _section_level(data: dict) -> Iterator[Mutant]:
    """Top-level damage: a section missing, misspelt, unknown, or not a table."""
    for section, value in data.items():
        rest = {k: v for k, v in data.items() if k != section}
        if rest:
            yield Mutant(f"missing_section:{section}", _dump(rest), False)
        if isinstance(value, dict) or isinstance(value, list) and value and isinstance(value[0], dict):
            for i, typo in enumerate(_typos(section)):
                yield Mutant(
                    f"misspelt_section:{section}:{i}",
                    _dump({**rest, typo: value}),
                    True,
                    key=typo,
                    expect=("did you mean", f"'{section}'"),
                )
            yield Mutant(f"section_not_table:{section}", _dump({**rest, section: 1}), True, key=section)
    yield Mutant("unknown_section", _dump({**data, "zzqx_extra": {"a": 1}}), True, key="zzqx_extra")


def _leaves(data: dict, prefix: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of every scalar or array; a path step is a key, or an index into an
    array of tables ([[name]] blocks)."""
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _leaves(value, prefix + (key,))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value[:2]):  # the first two blocks are representative
                yield from _leaves(item, prefix + (key, i))
        else:
            yield prefix + (key,), value


def _replace(
    data: dict | list, path: tuple, new: Any = None, *, rename: str | None = None, delete: bool = False
) -> dict | list:
    """A deep copy of `data` with the value at `path` replaced, renamed or deleted."""
    if isinstance(data, list):
        i = path[0]
        return data[:i] + [_replace(data[i], path[1:], new, rename=rename, delete=delete)] + data[i + 1 :]
    if len(path) == 1:
        out = dict(data)
        if delete:
            del out[path[0]]
        elif rename:
            out[rename] = out.pop(path[0])
        else:
            out[path[0]] = new  # replaces, or adds a new key
        return out
    return {**data, path[0]: _replace(data[path[0]], path[1:], new, rename=rename, delete=delete)}


def _typos(word: str) -> list[str]:
    """Two plausible misspellings close enough for a 'did you mean' (a letter dropped, two swapped)."""
    if len(word) < 4:
        return []
    mid = len(word) // 2
    dropped = word[:mid] + word[mid + 1 :]
    swapped = word[: mid - 1] + word[mid] + word[mid - 1] + word[mid + 1 :]
    return [t for t in dict.fromkeys([dropped, swapped]) if t != word]


def _declared(name: str) -> P.Parameter | None:
    return P.PARAMETERS.get(name)


def _leaf_level(data: dict, path: tuple, value: Any, strict_keys: bool) -> Iterator[Mutant]:
    """Damage to one key: misspelt, wrong type, out of range, huge, not finite, deleted."""
    dotted = ".".join(str(k) for k in path)
    key = path[-1]
    decl = _declared(key) if not isinstance(value, list) else None
    for i, typo in enumerate(_typos(key)):
        yield Mutant(
            f"misspelt_key:{dotted}:{i}",
            _dump(_replace(data, path, rename=typo)),
            strict_keys,
            key=typo,
            expect=("did you mean", f"'{key}'") if strict_keys else (),
        )
    yield Mutant(
        f"unknown_key:{dotted}",
        _dump(_replace(data, path[:-1] + ("zzqx_" + key,), value)),
        strict_keys,
        key="zzqx_" + key,
    )
    yield Mutant(f"deleted_key:{dotted}", _dump(_replace(data, path, delete=True)), False)
    kind = decl.type if decl else type(value)
    wrong: dict[str, Any] = {
        "str": "abc",
        "list": [1, 2],
        "table": {"x": 1},
        "bool": True,
        "fraction": 0.5,
        "int": 3,
    }
    for label, bad in wrong.items():
        if kind is str and label == "str" or kind is bool and label == "bool":
            continue
        if kind is float and label in ("int", "fraction"):
            continue  # an int is a valid float; 0.5 may be in range
        if kind is int and label == "int":
            continue
        if kind is list and label == "list":
            continue
        # Without a declaration only a clear category change (number <-> text <-> table) is
        # certainly wrong; a reader may accept e.g. a list where a scalar was written.
        certain = (
            decl is not None
            or kind in (str, int, float, bool)
            and label in ("table",)
            or (kind in (int, float) and label == "str")
            or (kind is str and label in ("table", "int"))
        )
        yield Mutant(f"wrong_type:{dotted}={label}", _dump(_replace(data, path, bad)), certain, key=key)
    huge = {
        "huge_int": 10**400,
        "huge_float": 1.0e308,
        "neg_huge": -1.0e308,
        "inf": math.inf,
        "nan": math.nan,
        "zero": 0,
        "negative": -1,
    }
    if kind in (int, float):
        for label, bad in huge.items():
            certain = decl is not None and not (decl.low is not None and decl.low <= bad <= decl.high)
            yield Mutant(f"{label}:{dotted}", _dump(_replace(data, path, bad)), certain, key=key)
    if decl is not None and decl.type is not bool:
        for label, bad in (
            ("above", decl.high + (1 if decl.type is int else abs(decl.high) * 0.5 + 1)),
            ("below", decl.low - (1 if decl.type is int else abs(decl.low) * 0.5 + 1)),
        ):
            yield Mutant(
                f"out_of_range_{label}:{dotted}",
                _dump(_replace(data, path, bad)),
                True,
                key=key,
                expect=("allowed",),
            )


# --- running the real entry point
def invoke(argv: list[str]) -> Outcome:
    """Run `crypto401k argv...` through cli.main.main in this process; its exit and output.

    Any exception other than SystemExit propagates (it would be a traceback for the user).
    """
    from cli import main as cli

    out, err = io.StringIO(), io.StringIO()
    old_argv = sys.argv
    sys.argv = ["crypto401k", *argv]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
    return Outcome(code, out.getvalue(), err.getvalue())


def check_clean_failure(result: Outcome, *, source: str | None, mutant: Mutant | None = None) -> None:
    """Assert the call ended as bad input must: exit 2, one line naming file, key and allowed values."""
    label = mutant.name if mutant else ""
    assert result.code == 2, f"{label}: exit {result.code}, stderr={result.stderr!r}"
    assert "Traceback" not in result.stderr + result.stdout, label
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"{label}: expected one line, got {result.stderr!r}"
    line = lines[0]
    assert line.startswith("error:"), f"{label}: {line}"
    if source:
        assert source in line, f"{label}: error does not name the file: {line}"
    if mutant is not None and mutant.key:
        assert mutant.key in line, f"{label}: error does not name key {mutant.key!r}: {line}"
        assert "allowed:" in line, f"{label}: error does not say what is allowed: {line}"
    for text in mutant.expect if mutant else ():
        assert text in line, f"{label}: error lacks {text!r}: {line}"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` and its bytes (to prove a failed call changed nothing)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
