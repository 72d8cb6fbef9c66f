"""Planning how a workload's PUBs are submitted: splitting large sweeps into jobs."""
