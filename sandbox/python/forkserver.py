"""Entry point of a tracefix fork server (see tracefix_harness/server.py).

Started by the Node server, inside bubblewrap where available:
    python3 -I forkserver.py '<config json>'
"""

import os
import sys

# -I leaves the script's directory off sys.path; the harness package sits beside it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tracefix_harness.server import main  # noqa: E402

if __name__ == "__main__":
    main()
