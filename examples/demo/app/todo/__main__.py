import sys

from todo.commands import main

sys.exit(main())
