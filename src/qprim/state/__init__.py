"""What survives a process: the journal of submissions (SQLite or PostgreSQL), the locks,
the result store and the object storage under it, results encoded as bytes."""
