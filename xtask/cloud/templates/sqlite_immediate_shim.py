"""Make SQLite transactions take the write lock up front (BEGIN IMMEDIATE).

oslo.db (which already drives BEGIN itself for SQLite) opens deferred transactions; a
read-then-write transaction that meets another writer then fails at once with 'database is
locked'. Concurrent tests need this.

Not with SQLAlchemy 1.x (the Glance releases up to 2024.1): their legacy sessions stay open
(in a transaction) until they are collected, and a read that took the write lock then
blocks every other request until SQLite's busy timeout ends in a 500.
"""
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

if int(sqlalchemy.__version__.split(".")[0]) >= 2:

    @event.listens_for(Engine, "before_cursor_execute", retval=True)
    def _immediate(conn, cursor, statement, parameters, context, executemany):
        if conn.dialect.name == "sqlite" and statement.strip().upper() == "BEGIN":
            statement = "BEGIN IMMEDIATE"
        return statement, parameters
