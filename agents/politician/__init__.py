"""The member of Congress, whole: its Mesa agent, its state columns, its rule.

* `agent.py`: `Politician`, a thin Mesa agent over its seat's row of the columns;
* `table.py`: the columns of every seat's member (Congress);
* `rule.py`: stance updates and votes, run for many members in one pass.
"""

from agents.politician.agent import Politician
from agents.politician.rule import BILLS, STANDARD_CRACKDOWN, yes_probability
from agents.politician.table import HOUSE, SENATE, Members

__all__ = ["BILLS", "HOUSE", "SENATE", "STANDARD_CRACKDOWN", "Members", "Politician", "yes_probability"]
