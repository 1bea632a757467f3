"""Units (the bodies that handle cases) and associations (the bodies cases are about)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.db import Base, UTCDateTime, utcnow
from casework.enums import TitledEnum, enum_column
from casework.i18n import N_


class UnitKind(TitledEnum):
    industry_department = "industry_department", N_("Industry department")
    registration_authority = "registration_authority", N_("Registration authority")
    supervisory_unit = "supervisory_unit", N_("Business supervisory unit")
    party_work_department = "party_work_department", N_("Party social work department")
    # 纪检监察: leaders' misconduct (负责人违规违纪) goes here, not to the party work department
    discipline_inspection = "discipline_inspection", N_("Discipline inspection and supervision body")
    mediation_body = "mediation_body", N_("Mediation body")
    triage = "triage", N_("Platform triage")


class AssociationLevel(TitledEnum):
    national = "national", N_("National")
    provincial = "provincial", N_("Provincial")
    municipal = "municipal", N_("Municipal")
    county = "county", N_("County")


class AssociationStatus(TitledEnum):
    active = "active", N_("Active")
    deregistered = "deregistered", N_("Deregistered")


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str | None] = mapped_column(sa.String(300))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    # A body that belongs to an association (its mediation body) names it here, so that
    # routing can tell that a case about the association must not go to it.
    association_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("association.id", use_alter=True, name="fk_unit_association_id_association"),
        index=True,
    )
    active: Mapped[bool] = mapped_column(default=True)
    # where set, only the unit lead may decide not to accept a case
    lead_approves_not_accept: Mapped[bool] = mapped_column(default=False)
    # where the unit's notices go (an office mailbox, not a person's)
    notice_email: Mapped[str | None] = mapped_column(sa.String(254))
    # who receives supervision notices (督办) about this unit's overdue cases; the next
    # level up is that unit's own supervising unit
    supervising_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    # a mediation body that is a 人民调解委员会: its agreements cite 人民调解法 第三十三条 for
    # judicial confirmation; any other mediation body cites 民事诉讼法 第二百零五条
    people_mediation_committee: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint("length(region_code) = 6", name="region_code_len"),)

    supervising_unit: Mapped["Unit | None"] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


association_industry_department = sa.Table(
    "association_industry_department",
    Base.metadata,
    sa.Column("association_id", sa.ForeignKey("association.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("unit.id"), primary_key=True),
)


class Association(Base):
    __tablename__ = "association"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    abbreviation: Mapped[str | None] = mapped_column(sa.String(100))
    name_en: Mapped[str | None] = mapped_column(sa.String(300))
    # pinyin initials of the name (and abbreviation), lower case, for type-ahead
    pinyin_initials: Mapped[str] = mapped_column(sa.String(200), default="", index=True)
    level: Mapped[AssociationLevel] = mapped_column(enum_column(AssociationLevel))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    status: Mapped[AssociationStatus] = mapped_column(
        enum_column(AssociationStatus), default=AssociationStatus.active
    )
    decoupled: Mapped[bool] = mapped_column(default=True)
    registration_authority_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    main_industry_department_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    supervisory_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    mediation_body_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    party_work_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"))
    # True where the credit code is a made-up sample (demo data), not the real one
    is_sample: Mapped[bool] = mapped_column(default=False)
    # member companies, as the association reports them (risk grading weighs cases by it);
    # None where not known
    member_count: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration_authority: Mapped[Unit] = relationship(foreign_keys=[registration_authority_id])
    main_industry_department: Mapped[Unit] = relationship(foreign_keys=[main_industry_department_id])
    supervisory_unit: Mapped[Unit | None] = relationship(foreign_keys=[supervisory_unit_id])
    mediation_body: Mapped[Unit | None] = relationship(foreign_keys=[mediation_body_id])
    party_work_department: Mapped[Unit | None] = relationship(foreign_keys=[party_work_department_id])
    other_industry_departments: Mapped[list[Unit]] = relationship(
        secondary=association_industry_department
    )

    __table_args__ = (
        sa.CheckConstraint("length(credit_code) = 18", name="credit_code_len"),
        sa.CheckConstraint("length(region_code) = 6", name="region_code_len"),
        # a decoupled association has no business supervisory unit
        sa.CheckConstraint(
            "NOT decoupled OR supervisory_unit_id IS NULL", name="decoupled_no_supervisor"
        ),
        sa.CheckConstraint("member_count IS NULL OR member_count >= 0", name="member_count_nonnegative"),
    )

    @property
    def is_active(self) -> bool:
        return self.status is AssociationStatus.active

    def __repr__(self) -> str:
        return f"<Association {self.credit_code} {self.name}>"
