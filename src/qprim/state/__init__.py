"""The journal, the result store and the run folders: what survives a process."""
