"""The database: tables, migrations, engines and the tenant-scoped unit of work."""

from pulso.store.session import CrossTenantWriteError, PulsoSession, platform_session, tenant_session

__all__ = ["CrossTenantWriteError", "PulsoSession", "platform_session", "tenant_session"]
