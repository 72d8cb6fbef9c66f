"""Pure functions of typed records: the run record, checks, facts, JUnit, markdown, plots."""
