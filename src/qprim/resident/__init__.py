"""qprim's resident process: commands that skip the imports (see `serve`)."""
