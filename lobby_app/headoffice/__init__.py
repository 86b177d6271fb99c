"""The head-office database that every branch syncs with (PostgreSQL; SQLite for a demo)."""
