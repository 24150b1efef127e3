"""PostgreSQL row-level security: the SQL that migrations run for every tenant table and the app role.

Two permissive policies per table: ``tenant_isolation`` (the tenant set for the transaction by
:func:`pulso.store.session.tenant_session`; no setting means no rows, not an error) and ``platform_access``
(only inside :func:`pulso.store.session.platform_session`, the explicit super-admin path).
"""

from __future__ import annotations

TENANT_PREDICATE = "tenant_id = nullif(current_setting('app.tenant_id', true), '')::int"
PLATFORM_PREDICATE = "current_setting('app.platform', true) = 'on'"


def enable_rls(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
        f"CREATE POLICY platform_access ON {table} USING ({PLATFORM_PREDICATE}) WITH CHECK ({PLATFORM_PREDICATE})",
    ]


def disable_rls(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS platform_access ON {table}",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def create_app_role(role: str) -> list[str]:
    """The role the application connects as: it logs in, owns nothing and is subject to RLS."""
    if not role.replace("_", "").isalnum():
        raise ValueError(f"invalid role name {role!r}: use letters, digits and underscores")
    return [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
            END IF;
        END $$""",
        *grant_app_role(role),
    ]


def grant_app_role(role: str) -> list[str]:
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE ALL ON TABLE alembic_version FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
