import sqlite_immediate_shim  # noqa: F401

try:
    # Glance 2025.2 and later.
    from glance.wsgi.api import application  # noqa: F401
except ImportError:
    # Up to 2025.1 the WSGI application is built by init_app().
    from glance.common.wsgi_app import init_app

    application = init_app()
