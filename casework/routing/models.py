"""Routing rules: rows an administrator edits, not code."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.cases.models import CaseType, Category
from casework.db import Base
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_
from casework.registry.models import Association, Unit


class RouteTarget(TitledEnum):
    main_industry_department = "main_industry_department", N_("Main industry department")
    registration_authority = "registration_authority", N_("Registration authority")
    supervisory_unit = "supervisory_unit", N_("Business supervisory unit")
    mediation_body = "mediation_body", N_("The association's mediation body")
    party_work_department = "party_work_department", N_("Party social work department")
    joint_mediation_body = "joint_mediation_body", N_("Regional joint mediation body")
    # the discipline inspection and supervision body of the association's region (纪检监察)
    discipline_inspection = "discipline_inspection", N_("Discipline inspection body of the region")


class RoutingRule(Base):
    """(case type, category or any, association or any) -> which related unit, in order.

    Rules are tried most specific first (an association's own rules, then a category's,
    then the type's catch-all), and by priority within each; the first that yields an
    allowed unit wins. That ordering is the fallback chain."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[CaseType] = mapped_column(enum_column(CaseType, name="rule_case_type"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"))
    association_id: Mapped[int | None] = mapped_column(sa.ForeignKey("association.id", ondelete="CASCADE"))
    target: Mapped[RouteTarget] = mapped_column(enum_column(RouteTarget))
    priority: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    category: Mapped[Category | None] = relationship()
    association: Mapped[Association | None] = relationship()

    __table_args__ = (sa.Index("ix_routing_rule_lookup", "case_type", "active"),)

    def describe(self) -> str:
        scope = [self.case_type.value, self.category.code if self.category else "*"]
        if self.association is not None:
            scope.append(self.association.credit_code)
        return f"rule {self.id} ({'/'.join(scope)} -> {self.target.value}, priority {self.priority})"


class JointMediationBody(Base):
    """The regional joint mediation body for associations without their own (by region)."""

    __tablename__ = "joint_mediation_body"

    id: Mapped[int] = mapped_column(primary_key=True)
    # GB/T 2260 prefix: "51" for Sichuan, "5101" for Chengdu; the longest match wins
    region_prefix: Mapped[str] = mapped_column(sa.String(6), unique=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))

    unit: Mapped[Unit] = relationship()
