"""The one error a backup, a restore or a check reports (its message is for the operator)."""


class BackupError(Exception):
    pass
