import sys

from chaos360.cli import main

sys.exit(main())
