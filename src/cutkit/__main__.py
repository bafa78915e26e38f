import sys

from cutkit.cli.main import main

sys.exit(main())
