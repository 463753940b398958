"""The scenario-discovery report: per outcome a trade-off plot, the chosen box, feature scores, markdown.

Files written into the report folder (outcome k = 1, 2, ... in the order given):

    discovery.md                  every outcome: what it means, how often it holds, the box, scores
    outcome<k>_tradeoff.png       PRIM's coverage/density trade-off, the chosen box circled
    outcome<k>_box.png            the chosen box's limits over the sampled ranges, with quasi-p values
    outcome<k>_features.png       feature scores (extra trees)
    outcome<k>_trajectory.csv     the peeling trajectory (coverage, density, mass, restricted dims)
    outcome<k>_box.csv            the chosen box's restrictions, quasi-p values, reproducibility
    outcome<k>_features.csv       the feature scores
    outcome<k>_runs.csv           per run: whether the outcome holds, and the values it compared

Nothing in the report depends on the time it was made, so regenerating it on the same store
gives the same files.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pandas as pd

from experiments.discovery.analysis import SIGNIFICANCE, Finding, StoreCases
from model import parameters as P
from model.errors import InputError


def _atomic(path: Path, write) -> None:
    from experiments.single_run import atomic_write

    atomic_write(path, write)


def _num(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return f"{int(v)}"
    return f"{v:.3g}"


def _value(label: str, v: float) -> str:
    if "_usd" in label and abs(v) >= 1e6:
        return f"${v / 1e9:,.1f}B"
    return f"{v:.3g}"


def _qp(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    mark = "" if v < SIGNIFICANCE else " (not significant)"
    return f"{v:.1e}{mark}"


def _unit(name: str) -> str:
    p = P.PARAMETERS.get(name)
    return p.unit if p is not None else ""


def _title(what: str, finding: Finding) -> str:
    return textwrap.fill(f"{what}: {finding.outcome.text}", 80)


def plot_tradeoff(finding: Finding, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig = finding.prim_box.show_tradeoff(annotated=False)
    ax = fig.axes[0]
    s = finding.stats
    ax.scatter([s["coverage"]], [s["density"]], s=220, facecolors="none", edgecolors="red", linewidths=1.5)
    ax.annotate(
        f"chosen box {finding.chosen}",
        (s["coverage"], s["density"]),
        textcoords="offset points",
        xytext=(8, -14),
        color="red",
        fontsize=8,
    )
    ax.axhline(finding.base_rate, color="grey", linestyle=":", linewidth=1)
    ax.set_title(_title("PRIM trade-off", finding), fontsize=8)
    fig.set_size_inches(6.5, 5)
    fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_box(finding: Finding, path: Path) -> None:
    import matplotlib.pyplot as plt

    figs = finding.prim_box.inspect(finding.chosen, style="graph")
    fig = figs[0] if isinstance(figs, list) else figs
    fig = fig if hasattr(fig, "savefig") else fig.figure
    fig.suptitle(_title("Chosen box", finding), fontsize=8)
    fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_scores(finding: Finding, path: Path, top: int = 15) -> None:
    import matplotlib.pyplot as plt

    scores = finding.scores.head(top)[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(scores) + 1.2))
    ax.barh(scores.index, scores.to_numpy(), color="C0")
    ax.set_xlabel("feature score (extra trees importance)")
    ax.set_title(_title("Which parameters matter", finding), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def answer(finding: Finding) -> str:
    """One sentence: where the outcome holds (the chosen box) and how well the box captures it."""
    share = f"{finding.n_true} of {finding.n_runs} runs ({finding.base_rate:.0%})"
    if finding.stats is None:
        return f"Holds in {share}."
    s = finding.stats
    if finding.box is None or finding.box.empty:
        return f"Holds in {share}; PRIM found no restriction that raises its frequency."
    parts = []
    for _, r in finding.box.iterrows():
        if isinstance(r["low"], str):
            parts.append(f"{r['parameter']} in {{{r['low']}}}")
            continue
        lo_cut = r["low"] > r["range_low"]
        hi_cut = r["high"] < r["range_high"]
        if lo_cut and hi_cut:
            parts.append(f"{_num(r['low'])} <= {r['parameter']} <= {_num(r['high'])}")
        elif lo_cut:
            parts.append(f"{r['parameter']} >= {_num(r['low'])}")
        else:
            parts.append(f"{r['parameter']} <= {_num(r['high'])}")
    return (
        f"Holds in {share}; where {' and '.join(parts)} it holds in {s['density']:.0%} of runs"
        f" (density), and that region holds {s['coverage']:.0%} of all runs where it holds (coverage)"
        f" with {s['mass']:.0%} of the runs (mass)."
    )


def write_report(
    cases: StoreCases, findings: list[Finding], dest: Path, command: str | None = None
) -> dict[str, Path]:
    """Write the figures, tables and discovery.md for the findings into `dest`; the files by kind."""
    import matplotlib

    matplotlib.use("Agg")
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise InputError(
            "is a link or a file", source=str(dest), key="--out", allowed="a folder (created if missing)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with matplotlib.rc_context({"text.parse_math": False}):  # titles hold dollar signs
        for k, f in enumerate(findings, start=1):
            stem = f"outcome{k}"
            # the parameters are in the store; this table adds what the outcome made of each run
            runs = pd.DataFrame({"holds": f.evaluation.holds.reindex(cases.x.index)})
            for label, values in f.evaluation.terms:
                runs[label] = values.reindex(cases.x.index)
            _atomic(dest / f"{stem}_runs.csv", lambda p, t=runs: t.to_csv(p))
            written[f"{stem}_runs"] = dest / f"{stem}_runs.csv"
            if f.trajectory is None:
                continue
            for name, frame, index in (
                ("trajectory", f.trajectory, False),
                ("box", f.box, False),
                ("features", f.scores.to_frame(), True),
            ):
                path = dest / f"{stem}_{name}.csv"
                _atomic(path, lambda p, t=frame, i=index: t.to_csv(p, index=i))
                written[f"{stem}_{name}"] = path
            for name, plot in (("tradeoff", plot_tradeoff), ("features", plot_scores)):
                path = dest / f"{stem}_{name}.png"
                _atomic(path, lambda p, fn=plot, fi=f: fn(fi, p))
                written[f"{stem}_{name}_png"] = path
            if f.box is not None and not f.box.empty:
                path = dest / f"{stem}_box.png"
                _atomic(path, lambda p, fi=f: plot_box(fi, p))
                written[f"{stem}_box_png"] = path
    md = markdown(cases, findings, written, command)
    _atomic(dest / "discovery.md", lambda p: p.write_text(md))
    written["summary"] = dest / "discovery.md"
    return written


def markdown(
    cases: StoreCases, findings: list[Finding], written: dict[str, Path], command: str | None
) -> str:
    n = len(cases.x)
    lines = [
        f"# Scenario discovery: {cases.root.name}",
        "",
        f"{n} completed runs ({', '.join(cases.scenarios)}; {cases.failed} failed runs left out);"
        f" participants {', '.join(map(str, cases.participants)) or 'default'};"
        f" quarters {', '.join(map(str, cases.quarters))}; model code {', '.join(cases.code_versions)}."
        f" Inputs: the {cases.x.shape[1]} parameters that vary between runs"
        f" ({', '.join(cases.x.columns)}).",
        "",
    ]
    if command:
        lines += ["Made with:", "", "```", command, "```", ""]
    lines += ["## Answers", ""]
    for k, f in enumerate(findings, start=1):
        lines.append(f"{k}. `{f.outcome.text}`: {answer(f)}")
    lines.append("")
    for k, f in enumerate(findings, start=1):
        stem = f"outcome{k}"
        lines += [f"## Outcome {k}: `{f.outcome.text}`", "", f"Measured as: {f.meaning}.", ""]
        requested = [alt for alt, col in f.evaluation.columns.items() if "|" in alt]
        for alt in requested:
            lines.append(f"Of `{alt}` the store has `{f.evaluation.columns[alt]}`, which is used.")
        if requested:
            lines.append("")
        lines.append(f"Holds in {f.n_true} of {f.n_runs} runs ({f.base_rate:.1%}).")
        lines.append("")
        if f.evaluation.terms:
            lines += [
                "| value compared | median | 5th pct | 95th pct | max | min |",
                "|---|---|---|---|---|---|",
            ]
            for label, v in f.evaluation.terms:
                v = v.dropna()
                lines.append(
                    f"| {label} | {_value(label, v.median())} | {_value(label, v.quantile(0.05))} |"
                    f" {_value(label, v.quantile(0.95))} | {_value(label, v.max())} | {_value(label, v.min())} |"
                )
            lines.append("")
        if f.trajectory is not None:
            s = f.stats
            lines += [
                f"**Chosen box** (trajectory point {f.chosen}; {f.rule}):"
                f" coverage {s['coverage']:.2f}, density {s['density']:.2f}, mass {s['mass']:.2f},"
                f" {int(s['res_dim'])} restricted parameters; {int(s['k'])} of its {int(s['n'])} runs hold"
                f" the outcome (base rate {f.base_rate:.2f}).",
                "",
            ]
            if f.box is not None and not f.box.empty:
                repro = "reproduce_coverage_pct" in f.box
                head = "| parameter | box | sampled range | unit | quasi-p low | quasi-p high |"
                lines += [
                    head + (" reproduced (coverage / density) |" if repro else ""),
                    "|---|---|---|---|---|---|" + ("---|" if repro else ""),
                ]
                for _, r in f.box.iterrows():
                    if isinstance(r["low"], str):
                        box_txt, rng_txt = "{" + r["low"] + "}", "{" + r["range_low"] + "}"
                    else:
                        box_txt = f"{_num(r['low'])} to {_num(r['high'])}"
                        rng_txt = f"{_num(r['range_low'])} to {_num(r['range_high'])}"
                    row = f"| {r['parameter']} | {box_txt} | {rng_txt} | {_unit(r['parameter'])} | {_qp(r['qp_low'])} | {_qp(r['qp_high'])} |"
                    if repro:
                        row += f" {r['reproduce_coverage_pct']:.0f}% / {r['reproduce_density_pct']:.0f}% |"
                    lines.append(row)
                lines.append("")
            lines += [
                "Feature scores (extra trees; higher matters more; a parameter without influence"
                f" scores about 1/{cases.x.shape[1]} = {1 / cases.x.shape[1]:.3f}), top 10:",
                "",
            ]
            lines += ["| parameter | score |", "|---|---|"]
            lines += [f"| {name} | {score:.3f} |" for name, score in f.scores.head(10).items()]
            lines.append("")
            figs = [
                f"{stem}_{kind}.png"
                for kind in ("tradeoff", "box", "features")
                if f"{stem}_{kind}_png" in written
            ]
            lines += [f"![{fig}]({fig})" for fig in figs] + [""]
        for note in f.notes:
            lines += [f"Note: {note}", ""]
        lines += [
            f"Tables: `{stem}_trajectory.csv`, `{stem}_box.csv`, `{stem}_features.csv`, `{stem}_runs.csv`."
            if f.trajectory is not None
            else f"Per-run table: `{stem}_runs.csv`.",
            "",
        ]
    lines += [
        "Definitions: coverage = share of all runs where the outcome holds that lie in the box;"
        " density = share of the box's runs where it holds; mass = share of all runs in the box;"
        " quasi-p = one-sided binomial test of the restriction (Bryant & Lempert 2010), below"
        f" {SIGNIFICANCE} counts as significant; reproduced = share of PRIM runs on random halves"
        " of the runs whose box at the same coverage (density) also restricts the parameter;"
        " feature score = extra-trees importance for the same 0/1 outcome (EMA Workbench).",
        "",
    ]
    return "\n".join(lines)
