import sqlite_immediate_shim  # noqa: F401
from glance.wsgi.api import application  # noqa: F401
