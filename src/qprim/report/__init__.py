"""The run record and what is made of it: run folders (`runs`), checks, facts, layouts of
sweeps, tidy tables and their exports, comparisons, JUnit, markdown, plots."""
