"""Backup and restore: the whole database and the upload files in one portable archive.

``create_backup`` (casework.backup.dump) reads every table from one snapshot and copies the
files that snapshot names; ``restore_backup`` (casework.backup.restore) loads an archive into
a new, empty instance on SQLite or PostgreSQL; ``verify_backup`` (casework.backup.archive)
checks an archive without restoring it. The archive never holds a key: personal data and
files stay encrypted with CHANGTONG_PII_KEY / CHANGTONG_IDENTITY_KEY, and query codes are
checked with CHANGTONG_QUERY_PEPPER; without those three the restored instance cannot read
them. The CLI is web/cli/backup.py (`changtong backup ...`).
"""
from casework.backup.archive import verify_backup
from casework.backup.dump import BackupResult, create_backup
from casework.backup.errors import BackupError
from casework.backup.restore import RestoreResult, restore_backup

__all__ = ["BackupError", "BackupResult", "RestoreResult", "create_backup", "restore_backup", "verify_backup"]
