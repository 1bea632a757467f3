"""Retention: personal data and files of cases closed longer than the configured period
(``CHANGTONG_RETENTION_DAYS``, default 1095) are erased; what statistics count stays."""
