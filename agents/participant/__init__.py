"""The participant (worker, saver, voter), whole: its Mesa agent, its state columns, its rule.

* `agent.py`: `Participant`, a thin Mesa agent over its row of the columns;
* `population.py`: the columns of every participant, their draws, ageing, retirement and entry,
  and the decision pass;
* `rule.py`: the decision rule, written once and run as one vectorised pass;
* `accounts.py`: the money each quarter moves, in units of crypto at the weeks' prices.
"""

from agents.participant.accounts import Flows
from agents.participant.agent import Participant
from agents.participant.population import EmployerView, Exits, Population

__all__ = ["EmployerView", "Exits", "Flows", "Participant", "Population"]
