"""Pure functions of typed records: the run record, checks, facts, layouts of sweeps, tidy
tables and their exports, comparisons, JUnit, markdown, plots."""
