"""Make SQLite transactions take the write lock up front (BEGIN IMMEDIATE).

oslo.db (which already drives BEGIN itself for SQLite) opens deferred transactions; a read-then-write transaction that meets another
writer then fails at once with 'database is locked'. Concurrent tests need this.
"""
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _immediate(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
        statement = "BEGIN IMMEDIATE"
    return statement, parameters
