"""The schema comes from migrations, and the migrations describe exactly the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from knet.db import db


def test_knet_init_builds_the_schema_from_migrations(app):
    tables = set(inspect(db.engine).get_table_names())
    assert "alembic_version" in tables
    assert {"users", "api_tokens", "wiki_pages", "wiki_revisions", "wiki_links", "wiki_redirects"} <= tables


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "a model changed without a migration: write one with 'knet db migrate -m …' and review it"
