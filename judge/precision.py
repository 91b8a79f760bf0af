"""How many decimals of a relevance score are worth printing: the one rounding rule every list,
export and the web view follow (rjwatch.output applies it, storage.canned writes it into SQL)."""

from __future__ import annotations

#: Decimals of a relevance score for a reader (a terminal, the web view): two tell 0.95 from 0.90,
#: which is all a reader compares.
RELEVANCE_DECIMALS_TERMINAL = 2
#: Decimals of a relevance score in machine formats (tsv, csv, json, jsonl, export): enough to sort
#: and compare scores, without the float noise of the stored value (0.9512345678901234).
RELEVANCE_DECIMALS_MACHINE = 4
