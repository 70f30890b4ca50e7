"""From run folders to decisions: study tables (:mod:`.aggregate`), seed statistics (:mod:`.seedstats`), the
paper's claims (:mod:`.claims`), figure panels' tables (:mod:`.panels`), plateaus (:mod:`.plateau`) and
Table 1 (:mod:`.tables`)."""
