import sys

from tools.judges import main

raise SystemExit(main(sys.argv[1:]))
