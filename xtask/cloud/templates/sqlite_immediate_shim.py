"""Make SQLite transactions take the write lock up front (BEGIN IMMEDIATE).

oslo.db (which already drives BEGIN itself for SQLite) opens deferred transactions; a
read-then-write transaction that meets another writer then fails at once with 'database is
locked'. Concurrent tests need this.

Not for the Glance releases up to 2025.1 (OSRS_SQLITE_DEFERRED, set by `cloud up --glance`): their
database sessions stay open (in a transaction) for as long as a request or a cache fetch
runs, and a read that took the write lock blocks every other request until SQLite's busy
timeout ends in a 500.
"""
import os

from sqlalchemy import event
from sqlalchemy.engine import Engine

if not os.environ.get("OSRS_SQLITE_DEFERRED"):

    @event.listens_for(Engine, "before_cursor_execute", retval=True)
    def _immediate(conn, cursor, statement, parameters, context, executemany):
        if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
            statement = "BEGIN IMMEDIATE"
        return statement, parameters
