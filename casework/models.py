"""Import every model so that Base.metadata is complete (Alembic, tests)."""
from casework.cases.models import (  # noqa: F401
    ActorKind, Attachment, CannedReply, Case, CaseState, CaseType, Category, CategoryGroup, Channel, Event,
    EventKind, IntakeReceipt,
)
from casework.accounts.models import ApiToken, Membership, Role, StaffSession, User  # noqa: F401
from casework.db import Base  # noqa: F401
from casework.deadlines.models import CalendarOverride, CalendarYear, TimeLimit  # noqa: F401
from casework.routing.models import JointMediationBody, RouteTarget, RoutingRule  # noqa: F401
from casework.notify.models import OutboxChannel, OutboxMessage, OutboxStatus  # noqa: F401
from casework.registry.models import (  # noqa: F401
    Association, AssociationLevel, AssociationStatus, Unit, UnitKind,
)
from casework.cases import guards  # noqa: F401,E402  (flush invariants)
from casework.mediation.models import Mediation, MediationSession, MediatorRecusal  # noqa: F401,E402
from casework.search.models import SearchDocument  # noqa: F401,E402
from casework.ratelimit import RateLimitCounter  # noqa: F401,E402
from casework.stats.models import AssociationRisk, StatRefresh, StatRollup  # noqa: F401,E402
from casework.audit.models import AuditEntry  # noqa: F401,E402
from casework.accounts import sessions as _staff_sessions  # noqa: F401,E402  (sessions end on password change)
from casework.notify.templates import NoticeTemplate  # noqa: F401,E402
from casework.privacy.models import RevealRequest  # noqa: F401,E402
from casework.documents.models import CaseDocument, DocumentTemplate  # noqa: F401,E402
from casework.verify.models import PhoneVerification  # noqa: F401,E402
from casework.reference import ReferenceVersion  # noqa: F401,E402
from casework.idempotency import StaffRequestKey  # noqa: F401,E402  (the staff API's Idempotency-Keys)
from casework.intake.drafts import IntakeDraft  # noqa: F401,E402  (a filing form's draft while its SMS code is on its way)
