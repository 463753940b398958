"""The Markdown report of a Bayesian calibration (report.md), from the tables already computed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from experiments.inference.diagnostics import IDENTIFIED, NOT_IDENTIFIED
from experiments.single_run import atomic_write


def _g(x: Any, digits: int = 4) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{v:.{digits}g}" if v == v else "-"


def _table(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(h for _, h in columns) + " |", "|" + "---|" * len(columns)]
    for _, r in frame.iterrows():
        lines.append(
            "| " + " | ".join(_g(r[c]) if not isinstance(r[c], str) else r[c] for c, _ in columns) + " |"
        )
    return lines


def write(
    path: Path,
    *,
    meta: dict[str, Any],
    ident: pd.DataFrame,
    check: pd.DataFrame | None,
    coverage: pd.DataFrame | None,
    prior_rows: pd.DataFrame | None,
    figures: dict[str, str],
) -> str:
    """Write the report; returns its text."""
    run = meta.get("run", {})
    gens = meta.get("generations", [])
    temp = meta.get("final_temperature")
    lines = [
        "# Bayesian calibration (ABC-SMC)",
        "",
        f"Produced by `{meta.get('command', '')}`.",
        "",
        f"- targets: `{meta.get('targets_file')}` (SHA-256 {str(meta.get('targets_digest', ''))[:16]}...),"
        f" {len(meta.get('targets', []))} targets; model code {meta.get('code_version')}; pyabc {meta.get('pyabc')}",
        f"- runs: scenario {run.get('scenario')}, {run.get('quarters')} quarters,"
        f" {run.get('participants') or 'default'} participants, {run.get('seeds_per_particle')} seed(s) per particle"
        + (", " + ", ".join(f"{k}={v}" for k, v in run.get("fixed", {}).items()) if run.get("fixed") else ""),
        f"- {len(gens)} generations, {meta.get('simulations', 0):,} simulations; stopped: {meta.get('stopped')}",
        f"- final temperature {_g(temp)}"
        + (
            " (the exact posterior under the targets' error model)"
            if meta.get("exact")
            else " (above 1: a tempered posterior, wider than the data warrant; raise --budget or"
            " --generations and run the same command to go on)"
        ),
        f"- effective sample size of the final generation: {_g(meta.get('effective_sample_size'), 3)}"
        f" of {gens[-1]['particles'] if gens else 0} particles",
        "",
        "## Which parameters the targets pin down",
        "",
        "Prior and posterior median with 90% intervals; contraction = 1 - posterior variance /"
        f" prior variance, with its 90% bootstrap interval; shift = (posterior mean - prior mean) /"
        f" prior SD. A contraction below {IDENTIFIED} means {NOT_IDENTIFIED}.",
        "",
    ]
    if not meta.get("exact"):
        lines += [
            f"**Provisional:** the posterior is tempered (temperature {_g(temp)}), so these intervals"
            " are wider and these contractions smaller than the targets warrant; a parameter reported"
            " as not identified may be identified at temperature 1.",
            "",
        ]
    t = ident.assign(
        prior=[
            f"{_g(a)} [{_g(b)}, {_g(c)}]"
            for a, b, c in zip(ident["prior_median"], ident["prior_q05"], ident["prior_q95"], strict=True)
        ],
        posterior=[
            f"{_g(a)} [{_g(b)}, {_g(c)}]"
            for a, b, c in zip(
                ident["posterior_median"], ident["posterior_q05"], ident["posterior_q95"], strict=True
            )
        ],
        contraction_ci=[
            f"{_g(a, 2)} [{_g(b, 2)}, {_g(c, 2)}]"
            for a, b, c in zip(
                ident["contraction"], ident["contraction_q05"], ident["contraction_q95"], strict=True
            )
        ],
        shift_text=[f"{s:+.2f}" for s in ident["shift"]],
    )
    lines += _table(
        t,
        [
            ("parameter", "parameter"),
            ("prior", "prior median [90%]"),
            ("posterior", "posterior median [90%]"),
            ("contraction_ci", "contraction [90%]"),
            ("shift_text", "shift (prior SDs)"),
            ("verdict", "verdict"),
        ],
    )
    lines += [
        "",
        "Priors: " + "; ".join(f"`{r['parameter']}` {r['prior_source']}" for _, r in ident.iterrows()),
        "",
    ]
    if check is not None:
        inside = int(check["inside"].sum())
        lines += [
            "## Posterior predictive check",
            "",
            f"{int(check['draws'].max()) if len(check) else 0} posterior draws, each run in a fresh world, plus each"
            f" target's error; observed inside its 90% predictive band for {inside} of {len(check)} targets"
            " (one-sided: the band reaches the allowed side).",
            "",
        ]
        c = check.assign(
            band=[f"[{_g(a)}, {_g(b)}]" for a, b in zip(check["band_q05"], check["band_q95"], strict=True)],
            obs=[
                {"upper": "<= ", "lower": ">= "}.get(k, "") + _g(o)
                for k, o in zip(check["kind"], check["observed"], strict=True)
            ],
            ok=["inside" if v else "OUTSIDE" for v in check["inside"]],
        )
        lines += _table(
            c,
            [
                ("target", "target"),
                ("statistic", "statistic"),
                ("obs", "observed"),
                ("simulated_median", "simulated median"),
                ("band", "90% predictive band"),
                ("ok", ""),
            ],
        )
        lines.append("")
    if coverage is not None:
        lines += [
            "## Recovery on synthetic targets",
            "",
            "True points drawn from the prior; their simulated statistics plus the error model are the"
            " targets; share of true values inside the 90% posterior intervals, with the exact 95% interval"
            " and a binomial test against 0.9.",
            "",
        ]
        cv = coverage.assign(
            cov=[
                f"{a:.2f} [{b:.2f}, {c:.2f}]"
                for a, b, c in zip(
                    coverage["coverage"], coverage["coverage_lo"], coverage["coverage_hi"], strict=True
                )
            ],
            verdict=[
                "consistent with 90%" if v else "NOT consistent with 90%" for v in coverage["consistent"]
            ],
        )
        lines += _table(
            cv,
            [
                ("parameter", "parameter"),
                ("inside", "inside"),
                ("intervals", "intervals"),
                ("cov", "coverage [95%]"),
                ("p_value", "p"),
                ("verdict", ""),
            ],
        )
        lines.append("")
    if prior_rows is not None and len(prior_rows):
        lines += ["## Prior sensitivity", ""]
        ran = prior_rows[prior_rows["run"]]
        skipped = sorted(set(prior_rows.loc[~prior_rows["run"], "prior"]))
        if skipped:
            lines += [
                f"Not run: {', '.join(skipped)} (the declared ranges leave those priors as they are).",
                "",
            ]
        if len(ran):
            p = ran.assign(
                post=[
                    f"{_g(a)} [{_g(b)}, {_g(c)}]"
                    for a, b, c in zip(
                        ran["posterior_median"], ran["posterior_q05"], ran["posterior_q95"], strict=True
                    )
                ],
                main=[
                    f"{_g(a)} [{_g(b)}, {_g(c)}]"
                    for a, b, c in zip(ran["main_median"], ran["main_q05"], ran["main_q95"], strict=True)
                ],
                flag=["prior-sensitive" if v else "" for v in ran["prior_sensitive"]],
            )
            lines += _table(
                p,
                [
                    ("prior", "prior widths"),
                    ("parameter", "parameter"),
                    ("main", "main posterior"),
                    ("post", "this prior's posterior"),
                    ("median_moved", "median moved (main 90% widths)"),
                    ("width_ratio", "width ratio"),
                    ("flag", ""),
                ],
            )
            lines.append("")
    lines += ["## Figures", ""]
    lines += [f"![{title}]({name})" for title, name in figures.items()]
    text = "\n".join(lines) + "\n"
    atomic_write(Path(path), lambda p: p.write_text(text))
    return text
