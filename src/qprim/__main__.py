from qprim.launch import main

main()
