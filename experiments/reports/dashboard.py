"""The one-run dashboard (PNG): adoption, flows, AUM, price with and without 401(k) impact."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

B = 1e9


def plot_dashboard(table: pd.DataFrame, path: Path, title: str = "") -> None:
    """Draw the dashboard panels for one run's quarters table and save it as PNG at `path`."""
    has_moat = "moat_index" in table.columns
    fig, axes = plt.subplots(2, 3 if has_moat else 2, figsize=(15 if has_moat else 11, 7.5))
    axes = axes.ravel()
    q = table["quarter"]
    ax = axes[0]
    ax.plot(q, table["active_adoption_rate"], label="active (own choice)")
    ax.plot(q, table["default_adoption_rate"], label="default (product sleeve)")
    ax.plot(q, table["adoption_rate"], "k--", lw=1, label="any")
    ax.plot(q, table["participants_offered_share"], ":", label="offered")
    ax.set_title("Adoption (share of participants)")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.bar(q, table["net_flow_usd"] / B, color="tab:blue", alpha=0.6, label="quarterly net flow")
    ax2 = ax.twinx()
    ax2.plot(q, table["cumulative_net_flow_usd"] / B, color="tab:red", label="cumulative")
    ax.set_title("Net 401(k) flow into crypto ($B)")
    ax.set_ylabel("quarterly")
    ax2.set_ylabel("cumulative", color="tab:red")
    ax = axes[2]
    ax.plot(q, table["crypto_aum_usd"] / B, color="tab:purple")
    ax.set_title("401(k) crypto AUM ($B)")
    ax = axes[3]
    ax.plot(q, table["price_index"], label="with 401(k) flow")
    ax.plot(q, table["price_index_no_401k"], "--", label="without")
    ax.set_yscale("log")
    ax.set_title("Crypto price index (quarter 0 = 1)")
    ax.legend(fontsize=8)
    if has_moat:
        ax = axes[4]
        ax.plot(q, table["moat_index"], label="moat index")
        ax.plot(q, table["crackdown_pass_probability"], label="crackdown pass probability")
        if "pro_crypto_share_house" in table.columns:
            ax.plot(q, table["pro_crypto_share_house"], ":", label="pro-crypto House share")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title("Political moat")
        ax.legend(fontsize=8)
        axes[5].plot(q, table["plans_offering_share"], label="plans offering")
        if "average_fee" in table.columns:
            axes[5].plot(q, table["average_fee"] * 100, label="average fee (%)")
        axes[5].set_title("Plans and products")
        axes[5].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("quarter (0 = 2025Q3)")
        ax.grid(alpha=0.3)
    fig.suptitle(f"crypto401k - {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=90, format="png")
    plt.close(fig)
