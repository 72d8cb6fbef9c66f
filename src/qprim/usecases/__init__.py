"""The use cases: what each command (and the Python API) does, one module per job, over
the layers below (flows, engine, plan, report, workload, backends, state)."""
