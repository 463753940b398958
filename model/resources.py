"""Whether a model of a given size fits in memory, decided before anything is allocated.

The estimate is peak resident memory while building and stepping a model, measured with
benchmarks/memory_per_participant.py (fresh process, ru_maxrss minus the footprint after
imports; baseline scenario, numpy 2, Mesa 3.5.1, Python 3.12):

* 100,000 and 1,000,000 participants (8 contacts, 2,000 employers): 636 bytes per participant;
* 200,000 participants: 552 bytes each with no contacts, plus 19 bytes per participant per
  contact (the contact matrix and the temporaries that draw it);
* 100,000 employers (1,000 participants): 2,300 bytes per employer (agents and the networkx graph).

The per-unit figures below round those up, so the refusal errs on the side of caution.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from model.errors import InputError

BYTES_PER_PARTICIPANT = 600  # state columns, the Mesa Participant object, per-quarter temporaries
BYTES_PER_CONTACT = 24  # one social contact of one participant (int64 plus drawing temporaries)
BYTES_PER_EMPLOYER = 2_500  # Employer agent, its peer list and the employer network
FIXED_BYTES = 50_000_000  # geography, market, data collection (independent of size)
HEADROOM = 0.8  # share of available memory a model may plan to use

_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
_CGROUP_USAGE = (Path("/sys/fs/cgroup/memory.current"), Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"))


def estimate_bytes(params: dict) -> int:
    """Peak memory (bytes) a model with these parameters needs while it runs."""
    n = int(params["n_participants"])
    return int(
        FIXED_BYTES
        + n * (BYTES_PER_PARTICIPANT + BYTES_PER_CONTACT * int(params["social_degree"]))
        + BYTES_PER_EMPLOYER * int(params["n_employers"])
    )


def available_bytes() -> int:
    """Memory this process can still use (bytes): the machine's, or its container's if smaller."""
    free = int(psutil.virtual_memory().available)
    for limit_file, usage_file in zip(_CGROUP_LIMITS, _CGROUP_USAGE, strict=True):
        try:
            limit = int(limit_file.read_text().strip())
            usage = int(usage_file.read_text().strip())
        except (OSError, ValueError):  # no such cgroup file, or "max" (no limit)
            continue
        free = min(free, max(0, limit - usage))
    return free


def check_memory(params: dict) -> None:
    """Refuse, with the estimate, a population that would not fit in the available memory."""
    need = estimate_bytes(params)
    have = available_bytes()
    if need > HEADROOM * have:
        raise InputError(
            f"a model of {params['n_participants']:,} participants ({params['social_degree']} contacts"
            f" each) and {params['n_employers']:,} employers needs about {_gb(need)} of memory,"
            f" but only {_gb(have)} is available",
            key="n_participants",
            allowed=f"at most about {max_participants(params, have):,} participants here",
        )


def max_participants(params: dict, have: int) -> int:
    """The largest participant count that fits in `have` bytes with the other sizes as given."""
    per = BYTES_PER_PARTICIPANT + BYTES_PER_CONTACT * int(params["social_degree"])
    spare = HEADROOM * have - FIXED_BYTES - BYTES_PER_EMPLOYER * int(params["n_employers"])
    return max(0, int(spare // per))


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"
