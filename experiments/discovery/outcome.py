"""Outcome expressions for scenario discovery: which runs of a batch store count as "the claim holds".

An outcome is read by a small tokenizer and recursive-descent parser (never `eval`), checked
against the columns the store actually has, and evaluated per run with pandas::

    cumulative_invested_usd@40 >= 87e9          an output at a quarter, compared with a value
    moat_index@2030Q4 >= 0.1                    the quarter as a calendar quarter (0 = 2025Q3)
    price_index@end < 1                         the run's last quarter
    rule_status@40 == 'rescinded'               text outputs compare with quoted text (== or !=)
    ever cumulative_net_flow_usd@0:2030Q4 >= $87B   at any quarter of a range (default: all)
    always adoption_rate@4:40 > 1%              at every quarter of a range
    ever rescinded                              shorthand: ever rule_status == 'rescinded'
    cumulative_invested_usd|cumulative_net_flow_usd@40 >= 87e9
                                                the first of these outputs the store has
    not ever rescinded and plans_offering_share@40 > 0     combined with not, and, or, ( )

Values: numbers (87e9, 0.1, -0.3), with an optional $ and a k/M/B/T suffix (thousand, million,
billion, trillion: $87B = 87e9) or % (10% = 0.1), or quoted text. Every problem is one
InputError naming the allowed forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from model.calendar import date_to_quarter, quarter_to_date
from model.errors import InputError, did_you_mean

FORMS = (
    'OUTPUT@QUARTER OP VALUE, e.g. "cumulative_invested_usd@40 >= 87e9", "moat_index@2030Q4 >= 0.1",'
    ' "rule_status@40 == \'rescinded\'"; ever/always OUTPUT[@FROM:TO] OP VALUE; "ever rescinded";'
    " OUTPUT1|OUTPUT2 for the first output the store has; QUARTER a number, YYYYQn or end;"
    " OP one of >= > <= < == !=; VALUE a number (87e9, $87B, 10%) or 'text';"
    " combined with not, and, or and parentheses"
)
RULE_STATUSES = ("order_only", "proposed", "final", "rescinded", "codified")
KEYWORDS = {"and", "or", "not", "ever", "always", "end"}
IDENTIFIERS = {"run_id", "scenario", "seed", "draw", "quarter", "date"}
OPS = (">=", "<=", "==", "!=", ">", "<")
SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12, "%": 0.01}
MAX_LENGTH = 2000

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'[^']*'|"[^"]*")
      | (?P<date>\d{4}[qQ][1-4])(?![A-Za-z0-9_])
      | (?P<num>-?\$?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[kKmMbBtT%]?)(?![A-Za-z0-9_.])
      | (?P<op>>=|<=|==|!=|>|<)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[@:|()])
    )""",
    re.VERBOSE,
)


def _error(text: str, problem: str) -> InputError:
    return InputError(f"cannot read outcome {text!r}: {problem}", key="--outcome", allowed=FORMS)


# --- the expression tree
@dataclass(frozen=True)
class When:
    """A quarter (`end` None) or a range of quarters; each end an int, 'YYYYQn' or 'end'."""

    start: int | str
    end: int | str | None = None


@dataclass(frozen=True)
class Compare:
    columns: tuple[str, ...]  # alternatives: the first the store has is used
    when: When | None
    op: str
    value: float | str
    shorthand: str | None = None  # 'rescinded' for "ever rescinded"


@dataclass(frozen=True)
class Quantified:
    kind: str  # "ever" or "always"
    compare: Compare


@dataclass(frozen=True)
class Not:
    inner: object


@dataclass(frozen=True)
class Logical:
    op: str  # "and" or "or"
    parts: tuple


@dataclass(frozen=True)
class Outcome:
    """A parsed outcome: its text and tree (evaluate with `evaluate`)."""

    text: str
    tree: object


# --- parsing
def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _error(text, f"unexpected {text[pos:].strip()[:20]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise _error(self.text, "it ends too early")
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "name" and tok[1].lower() == word

    def expect(self, kind: str, value: str | None = None) -> str:
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = value or {"name": "an output name", "op": "a comparison (>= > <= < == !=)"}.get(kind, kind)
            raise _error(self.text, f"expected {want}, found {tok[1]!r}")
        return tok[1]

    def parse(self) -> object:
        if not self.toks:
            raise _error(self.text, "it is empty")
        tree = self.or_()
        if self.peek() is not None:
            raise _error(self.text, f"unexpected {self.peek()[1]!r} after a complete condition")
        return tree

    def or_(self) -> object:
        parts = [self.and_()]
        while self.is_word("or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Logical("or", tuple(parts))

    def and_(self) -> object:
        parts = [self.not_()]
        while self.is_word("and"):
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else Logical("and", tuple(parts))

    def not_(self) -> object:
        if self.is_word("not"):
            self.take()
            return Not(self.not_())
        return self.atom()

    def atom(self) -> object:
        tok = self.peek()
        if tok == ("punct", "("):
            self.take()
            inner = self.or_()
            self.expect("punct", ")")
            return inner
        if self.is_word("ever") or self.is_word("always"):
            kind = self.take()[1].lower()
            nxt, after = self.peek(), self.peek(1)
            if nxt is not None and nxt[0] == "name":
                compared = after is not None and (after[0] == "op" or after == ("punct", "|"))
                ends = after is None or after[0] == "name" or after == ("punct", ")")
                if (nxt[1] in RULE_STATUSES and not compared) or (nxt[1] not in RULE_STATUSES and ends):
                    return Quantified(kind, self.shorthand())  # a rule status, or its error message
            return Quantified(kind, self.compare(range_ok=True))
        return self.compare(range_ok=False)

    def shorthand(self) -> Compare:
        word = self.expect("name")
        if word not in RULE_STATUSES:
            raise _error(
                self.text,
                f"'{word}' after ever/always must be a rule status ({', '.join(RULE_STATUSES)})"
                " or an output compared with a value",
            )
        when = None
        if self.peek() == ("punct", "@"):
            self.take()
            when = self.when()
        return Compare(("rule_status",), when, "==", word, shorthand=word)

    def compare(self, range_ok: bool) -> Compare:
        columns = [self.column()]
        while self.peek() == ("punct", "|"):
            self.take()
            columns.append(self.column())
        when = None
        if self.peek() == ("punct", "@"):
            self.take()
            when = self.when()
        if when is None and not range_ok:
            raise _error(
                self.text, f"'{columns[0]}' needs a quarter (e.g. {columns[0]}@40), or ever/always before it"
            )
        if when is not None and when.end is not None and not range_ok:
            raise _error(self.text, "a range of quarters needs ever or always before the output")
        tok = self.peek()
        if tok is None or tok[0] != "op":
            raise _error(self.text, f"expected a comparison (>= > <= < == !=) after '{columns[0]}'")
        op = self.take()[1]
        return Compare(tuple(columns), when, op, self.value())

    def column(self) -> str:
        tok = self.take()
        if tok[0] != "name" or tok[1].lower() in KEYWORDS:
            raise _error(self.text, f"expected an output name, found {tok[1]!r}")
        return tok[1]

    def when(self) -> When:
        start = self.point()
        if self.peek() == ("punct", ":"):
            self.take()
            return When(start, self.point())
        return When(start)

    def point(self) -> int | str:
        kind, val = self.take()
        if kind == "date":
            return val.upper()
        if kind == "name" and val.lower() == "end":
            return "end"
        if kind == "num" and re.fullmatch(r"\d+", val):
            return int(val)
        raise _error(self.text, f"expected a quarter (a number from 0, YYYYQn or end), found {val!r}")

    def value(self) -> float | str:
        kind, val = self.take()
        if kind == "str":
            return val[1:-1]
        if kind == "num":
            scale = 1.0
            body = val.replace("$", "")
            if body[-1].lower() in SUFFIX:
                scale = SUFFIX[body[-1].lower()]
                body = body[:-1]
            return float(body) * scale
        raise _error(
            self.text, f"expected a value (a number such as 87e9, $87B, 10%, or 'text'), found {val!r}"
        )


def parse(text: str) -> Outcome:
    """The outcome expression `text` parsed (InputError naming the allowed forms if it cannot be)."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise _error(str(text)[:80], f"expected text of at most {MAX_LENGTH} characters")
    return Outcome(text.strip(), _Parser(text).parse())


# --- evaluation over a store's per-quarter rows
def compares(tree: object) -> list[Compare]:
    """Every comparison in the tree, in reading order."""
    if isinstance(tree, Compare):
        return [tree]
    if isinstance(tree, Quantified):
        return [tree.compare]
    if isinstance(tree, Not):
        return compares(tree.inner)
    if isinstance(tree, Logical):
        return [c for p in tree.parts for c in compares(p)]
    raise TypeError(tree)


def resolve_column(cmp: Compare, available: list[str], text: str) -> str:
    """The first of the comparison's alternative outputs that the store has."""
    outputs = [c for c in available if c not in IDENTIFIERS and not c.startswith("param_")]
    for col in cmp.columns:
        if col in outputs:
            return col
    wanted = cmp.columns[0]
    hint = did_you_mean(wanted, outputs)
    which = "none of " + ", ".join(cmp.columns) if len(cmp.columns) > 1 else f"no output '{wanted}'"
    raise InputError(
        f"cannot read outcome {text!r}: the store has {which}{hint}",
        key="--outcome",
        allowed="outputs in this store: " + ", ".join(outputs),
    )


def columns_needed(outcome: Outcome, available: list[str]) -> list[str]:
    """The store columns the outcome reads (InputError if any is missing)."""
    return list(dict.fromkeys(resolve_column(c, available, outcome.text) for c in compares(outcome.tree)))


def _quarter(point: int | str, last: pd.Series, text: str) -> int | pd.Series:
    if point == "end":
        return last
    q = date_to_quarter(point) if isinstance(point, str) else point
    if q < 0:
        raise _error(text, f"{point} is before quarter 0 ({quarter_to_date(0)})")
    return q


def _point_words(p: int | str) -> str:
    if p == "end":
        return "the last quarter"
    q = date_to_quarter(p) if isinstance(p, str) else p
    return f"quarter {q} ({quarter_to_date(q)})"


def describe(cmp: Compare, column: str, kind: str | None = None) -> str:
    """A comparison in words, its quarters also as calendar quarters."""
    value = f"'{cmp.value}'" if isinstance(cmp.value, str) else _fmt_value(column, cmp.value)
    if cmp.when is None:
        where = "at some quarter" if kind == "ever" else "at every quarter"
    elif cmp.when.end is None:
        where = f"at {_point_words(cmp.when.start)}"
    else:
        which = "some" if kind == "ever" else "every"
        where = f"at {which} quarter from {_point_words(cmp.when.start)} to {_point_words(cmp.when.end)}"
    return f"{column} {cmp.op} {value} {where}"


def describe_outcome(outcome: Outcome, columns: list[str]) -> str:
    """The whole outcome in words, with the store columns it reads (as `columns_needed` gives them)."""
    available = list(columns)

    def walk(node: object, top: bool = False) -> str:
        if isinstance(node, Compare):
            return describe(node, resolve_column(node, available, outcome.text))
        if isinstance(node, Quantified):
            return describe(node.compare, resolve_column(node.compare, available, outcome.text), node.kind)
        if isinstance(node, Not):
            return f"not ({walk(node.inner)})"
        text = f" {node.op} ".join(walk(p) for p in node.parts)
        return text if top else f"({text})"

    return walk(outcome.tree, top=True)


def _fmt_value(column: str, v: float) -> str:
    if column.endswith("_usd") and abs(v) >= 1e6:
        return f"${v / 1e9:,.1f}B"
    return f"{v:g}"


@dataclass
class Evaluation:
    """Per run: whether the outcome holds, and the value behind each numeric comparison."""

    holds: pd.Series  # bool, indexed by run_id
    terms: list[tuple[str, pd.Series]]  # (description, per-run value: the one compared, or the extreme)
    columns: dict[str, str]  # requested alternatives text -> column used


def evaluate(outcome: Outcome, rows: pd.DataFrame) -> Evaluation:
    """Evaluate the outcome for every run in `rows` (run_id, quarter and the needed columns).

    Raises InputError if a quarter is not in every run, a value is missing, or a text output is
    compared with a number (or a numeric output with text or with an ordering on text).
    """
    runs = pd.Index(sorted(rows["run_id"].unique()), name="run_id")
    last = rows.groupby("run_id")["quarter"].max().reindex(runs)
    first = rows.groupby("run_id")["quarter"].min().reindex(runs)
    available = list(rows.columns)
    terms: list[tuple[str, pd.Series]] = []
    used: dict[str, str] = {}
    text = outcome.text

    def per_run_rows(cmp: Compare, column: str) -> pd.DataFrame:
        data = rows[["run_id", "quarter", column]]
        if cmp.when is None:
            return data
        start = _quarter(cmp.when.start, last, text)
        end = _quarter(cmp.when.end, last, text) if cmp.when.end is not None else start
        lo = data["run_id"].map(start) if isinstance(start, pd.Series) else start
        hi = data["run_id"].map(end) if isinstance(end, pd.Series) else end
        for point, q in ((cmp.when.start, start), (cmp.when.end, end)):
            if point is None or isinstance(q, pd.Series):
                continue
            if (last < q).any() or (first > q).any():
                raise _error(
                    text,
                    f"quarter {q} ({quarter_to_date(q)}) is not in every run"
                    f" (the store's runs cover quarters {int(first.max())} to {int(last.min())})",
                )
        bounded = not isinstance(start, pd.Series) and not isinstance(end, pd.Series)
        if cmp.when.end is not None and bounded and start > end:
            raise _error(text, f"the range {cmp.when.start}:{cmp.when.end} runs backwards")
        return data[(data["quarter"] >= lo) & (data["quarter"] <= hi)]

    def compare(cmp: Compare, kind: str | None) -> pd.Series:
        column = resolve_column(cmp, available, text)
        used["|".join(cmp.columns)] = column
        data = per_run_rows(cmp, column)
        values = data[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if isinstance(cmp.value, str):
            if numeric:
                raise _error(text, f"'{column}' is numeric: compare it with a number, not '{cmp.value}'")
            if cmp.op not in ("==", "!="):
                raise _error(text, f"'{column}' is text: compare it with == or !=, not {cmp.op}")
        elif not numeric:
            seen = sorted(map(str, values.dropna().unique()))[:8]
            raise _error(
                text, f"'{column}' is text (values such as {', '.join(seen)}): compare it with 'quoted text'"
            )
        if values.isna().any():
            n = data.loc[values.isna(), "run_id"].nunique()
            raise _error(text, f"'{column}' has no value in some quarters of {n} runs")
        ops = {
            ">=": values.__ge__,
            ">": values.__gt__,
            "<=": values.__le__,
            "<": values.__lt__,
            "==": values.__eq__,
            "!=": values.__ne__,
        }
        ok = ops[cmp.op](cmp.value)
        grouped = ok.groupby(data["run_id"])
        if kind == "ever":
            result = grouped.any()
        elif kind == "always":
            result = grouped.all()
        else:
            result = grouped.first()
        result = result.reindex(runs)
        if result.isna().any():
            raise _error(text, f"{int(result.isna().sum())} runs have no quarter in the range asked for")
        if numeric:
            g = values.groupby(data["run_id"])
            upper = cmp.op in (">", ">=")
            if kind is None:
                v, how = g.first(), ""
            elif (kind == "ever") == upper:
                v, how = g.max(), "highest "
            else:
                v, how = g.min(), "lowest "
            if not how:
                label = f"{column} at {_point_words(cmp.when.start)}"
            elif cmp.when is None:
                label = f"{how}{column} over the run"
            elif cmp.when.end is None:
                label = f"{column} at {_point_words(cmp.when.start)}"
            else:
                label = f"{how}{column} from {_point_words(cmp.when.start)} to {_point_words(cmp.when.end)}"
            terms.append((label, v.reindex(runs)))
        return result.astype(bool)

    def walk(node: object) -> pd.Series:
        if isinstance(node, Compare):
            return compare(node, None)
        if isinstance(node, Quantified):
            return compare(node.compare, node.kind)
        if isinstance(node, Not):
            return ~walk(node.inner)
        if isinstance(node, Logical):
            parts = [walk(p) for p in node.parts]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if node.op == "and" else (out | p)
            return out
        raise TypeError(node)

    holds = walk(outcome.tree)
    holds.name = "holds"
    return Evaluation(holds=holds, terms=terms, columns=used)
