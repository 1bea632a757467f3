"""Demo staff accounts, for trying the desk and the staff API on a development machine.

DEMO ONLY: the passwords are fixed and published in the README. Never load these on a
database that holds real cases. ``ensure_demo_staff`` is safe to run again: a missing
account is created, a missing role is granted, an existing password is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.accounts.models import Role, User
from casework.accounts.operations import create_user, grant_role
from casework.registry.models import Unit

DEMO_PASSWORD = "changtong-demo-2026"


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    unit_code: str
    role: Role
    password: str = DEMO_PASSWORD


DEMO_STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("demo-handler-miit", "演示·工信部承办人", "miit", Role.handler),
    DemoStaff("demo-lead-miit", "演示·工信部负责人", "miit", Role.unit_lead),
    DemoStaff("demo-handler-mca", "演示·民政部承办人", "mca", Role.handler),
    DemoStaff("demo-handler-samr", "演示·市场监管总局承办人", "samr", Role.handler),
    # a Sichuan complaint's reply, its 复查 one level up (miit) and its 复核 one more (swd-central)
    DemoStaff("demo-handler-sc", "演示·四川省经信厅承办人", "sc-economy-it", Role.handler),
    DemoStaff("demo-handler-swd", "演示·社会工作部承办人", "swd-central", Role.handler),
    DemoStaff("demo-triage", "演示·平台分拨员", "triage", Role.triage_operator),
    DemoStaff("demo-mediator-caam", "演示·中汽协调解员", "caam-mediation", Role.handler),
    DemoStaff("demo-supervisor", "演示·社会工作部督办人员", "swd-central", Role.supervisor),
    DemoStaff("demo-admin", "演示·民政部管理员", "mca", Role.administrator),
    # decides miit's requests to see a reporter's identity (the demo's named report): granted here
    # as the command line grants it, where an administrator's grant waits for a second administrator
    DemoStaff("demo-custodian-miit", "演示·工信部身份保管人", "miit", Role.custodian),
)


@dataclass(frozen=True)
class DemoResult:
    spec: DemoStaff
    created: bool


def ensure_demo_staff(session: Session) -> list[DemoResult]:
    """Create the demo staff that are missing; flushes, never commits.

    Needs the demo units (``casework.registry.demo.load_demo``); raises LookupError
    naming the first unit code that does not exist.
    """
    results = []
    for spec in DEMO_STAFF:
        unit = session.scalar(select(Unit).where(Unit.code == spec.unit_code))
        if unit is None:
            raise LookupError(f"unit {spec.unit_code} does not exist; load the demo registry first")
        user = session.scalar(select(User).where(User.username == spec.username))
        created = user is None
        if created:
            user = create_user(session, spec.username, spec.display_name, spec.password)
        grant_role(session, user, unit, spec.role)
        results.append(DemoResult(spec, created))
    return results
