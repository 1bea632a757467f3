"""`changtong routing …`: routing rules from and to CSV (the administrator's CLI)."""
import click
from flask.cli import AppGroup

routing_group = AppGroup("routing", help="Routing rules (import/export CSV).")
