from qprim.cli import main

main()
