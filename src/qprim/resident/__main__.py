import sys

from qprim.resident.serve import main

sys.exit(main())
