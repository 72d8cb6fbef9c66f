"""`python -m qprim.backends.aer.worker`: a process that executes stored Aer jobs (see
`qprim.backends.aer.execute.WorkerPool`)."""

from qprim.backends.aer.execute import serve

if __name__ == "__main__":
    serve()
