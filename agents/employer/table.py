"""The employers' columnar state: one row per plan sponsor (employers are never replaced).

Offers are columns too: the kind of crypto product on the menu (an index into
agents.asset_manager.MENU, -1 for none), its annual fee, the manager selling it and whether that
manager is not the plan's recordkeeper (`switching`). Quarters are -1 where the state has no date
(never offered, never sued). Peers are stored as a compressed adjacency (`peer_ptr`, `peer_idx`):
employer i's peers are peer_idx[peer_ptr[i]:peer_ptr[i + 1]], in index order.
"""

from __future__ import annotations

import numpy as np

from agents.rows import Departures


class Employers:
    """All employers as columns (index = employer index = row)."""

    def __init__(
        self,
        segment: np.ndarray,
        plan_participants: np.ndarray,
        caution: np.ndarray,
        auto_enrol: np.ndarray,
        match_rate: np.ndarray,
        match_cap: float,
        industry: np.ndarray,
        region: np.ndarray,
    ):
        self.n = n = len(segment)
        self.ident = np.arange(n, dtype=np.int64)
        self.departures = Departures()  # employers never leave; the handles' protocol asks for it
        self.segment = np.asarray(segment, np.int64)  # 0 small (<$10M), 1 mid, 2 large (>$200M)
        self.plan_participants = np.asarray(plan_participants, float)  # real participants in one such plan
        self.caution = np.asarray(caution, float)  # fiduciary caution, 0-1
        self.auto_enrol = np.asarray(auto_enrol, bool)
        self.match_rate = np.asarray(match_rate, float)  # employer match per unit of deferral
        self.match_cap = np.full(n, float(match_cap))  # deferral share matched up to
        self.industry = np.asarray(industry, np.int64)
        self.region = np.asarray(region, np.int64)
        self.recordkeeper = np.full(n, -1, np.int64)  # asset-manager index
        self.offer_kind = np.full(n, -1, np.int64)  # index into MENU, -1: no crypto option
        self.offer_fee = np.zeros(n)  # share of assets a year
        self.offer_manager = np.full(n, -1, np.int64)
        self.offer_switching = np.zeros(n, bool)
        self.cap = np.zeros(n)  # share of contributions and balance
        self.offered_since = np.full(n, -1, np.int64)
        self.newly_offered = np.zeros(n, bool)
        self.educating = np.zeros(n, bool)
        self.sued_quarter = np.full(n, -1, np.int64)
        self.peer_ptr = np.zeros(n + 1, np.int64)
        self.peer_idx = np.zeros(0, np.int64)
        self.peer_owner = np.zeros(0, np.int64)  # the employer each entry of peer_idx belongs to

    # --- peers
    def set_peers(self, edges: np.ndarray) -> None:
        """The peer network from its undirected edges (an (m, 2) array of employer indices)."""
        a = np.concatenate([edges[:, 0], edges[:, 1]]).astype(np.int64)
        b = np.concatenate([edges[:, 1], edges[:, 0]]).astype(np.int64)
        order = np.lexsort((b, a))
        self.peer_idx = b[order]
        self.peer_owner = a[order]
        self.peer_ptr = np.concatenate([[0], np.cumsum(np.bincount(a, minlength=self.n))]).astype(np.int64)

    def peers_of(self, i: int) -> np.ndarray:
        """Indices of employer i's peers."""
        return self.peer_idx[self.peer_ptr[i] : self.peer_ptr[i + 1]]

    def peer_counts(self) -> np.ndarray:
        """Number of peers of every employer."""
        return np.diff(self.peer_ptr)

    def peer_sum(self, values: np.ndarray) -> np.ndarray:
        """Per employer, the sum of `values` over its peers."""
        weights = np.asarray(values, float)[self.peer_idx]
        return np.bincount(self.peer_owner, weights=weights, minlength=self.n)

    # --- what others read
    @property
    def offers(self) -> np.ndarray:
        """Whether each menu has a crypto option (bool)."""
        return self.offer_kind >= 0

    def recently_sued(self, quarter: int, memory: int) -> np.ndarray:
        """Whether each employer was sued within the last `memory` quarters (bool)."""
        return (self.sued_quarter >= 0) & (quarter - self.sued_quarter < memory)

    def perceived_litigation(self, quarter: int, level: float, params: dict) -> np.ndarray:
        """Litigation risk as each employer sees it: the climate, peers sued, own lawsuits (0-1+)."""
        recent = self.recently_sued(quarter, params["lawsuit_memory_quarters"])
        count = self.peer_counts()
        peer = np.divide(self.peer_sum(recent), count, out=np.zeros(self.n), where=count > 0)
        return level + params["peer_lawsuit_weight"] * peer + recent.astype(float)
