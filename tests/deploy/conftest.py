"""The deployment tests run a node as docs/deploy.md does, on the PostgreSQL server of the suite's PostgreSQL run."""
from __future__ import annotations

import itertools
import os

import psycopg
import pytest

_numbers = itertools.count(1)


@pytest.fixture
def production_database(postgres):
    """A role and a database owned by it, as docs/deploy.md creates them (createuser, createdb -O), and the
    URL knet connects with over the server's Unix socket. The throwaway server trusts local connections,
    standing in for the peer authentication of a Debian server, where the system user `knet` is the role
    `knet`. Only in the PostgreSQL run (--database postgresql): production is PostgreSQL."""
    if postgres is None:
        pytest.skip("a deployment runs on PostgreSQL: this test runs in the PostgreSQL run (--database postgresql)")
    name = f"knet_deploy_{os.getpid()}_{next(_numbers)}"
    admin = f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    yield f"postgresql+psycopg://{name}@/{name}?host={postgres.dir}&port={postgres.port}"
    postgres.drop_database(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')
