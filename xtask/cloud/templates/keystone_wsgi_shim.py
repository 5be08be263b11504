import sys

# keystone parses sys.argv with oslo.config; gunicorn's arguments would kill the worker.
sys.argv = sys.argv[:1]

import sqlite_immediate_shim  # noqa: E402,F401
from keystone.wsgi.api import application  # noqa: E402,F401
