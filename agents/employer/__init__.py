"""The employer (plan sponsor), whole: its Mesa agent, its state columns, its rule.

* `agent.py`: `Employer`, a thin Mesa agent over its row of the columns;
* `table.py`: the columns of every employer (plan, menu, lawsuits) and the peer network;
* `rule.py`: the menu review, education and lawsuits, run for many employers in one pass.
"""

from agents.employer.agent import Employer
from agents.employer.table import Employers

__all__ = ["Employer", "Employers"]
