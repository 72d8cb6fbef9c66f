"""The only package that imports Prefect: flows, their tasks, blocks, artifacts and the
environment Prefect runs in. Importing this package itself imports nothing heavy."""
