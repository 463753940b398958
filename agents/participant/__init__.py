"""The participant (worker, saver, voter), whole: its Mesa agent, its state columns, its rule.

* `agent.py`: `Participant`, a thin Mesa agent over its row of the columns;
* `population.py`: the columns of every participant and the money they move each quarter;
* `rule.py`: the decision rule, written once and run as one vectorised pass.
"""

from agents.participant.agent import Participant
from agents.participant.population import EmployerView, Flows, Population

__all__ = ["EmployerView", "Flows", "Participant", "Population"]
