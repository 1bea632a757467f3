"""Demo cases, so that a fresh ``make run`` has a desk, statistics and supervision to look at.

DEMO ONLY, like the demo staff (casework.accounts.demo): the people are made up and the cases
are filed into an empty database only. Each case goes in through the real intake and its
moves through the real state machine, each at its own time in the last two months (a clock
set back), so its timeline, deadlines, notices and overdue marks are what the platform would
have made. A case whose unit has no demo staff is left where routing put it; those filed long
ago are overdue, which the workers escalate (督办) once they run.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from casework.accounts.actor import Actor
from casework.accounts.demo import DEMO_STAFF
from casework.accounts.models import Role, User
from casework.cases.models import Case, Channel
from casework.context import Services
from casework.registry.demo import sample_credit_code

STEEL = sample_credit_code("51100000500099001")  # 中国钢铁工业协会
AUTO = sample_credit_code("51100000500099002")  # 中国汽车工业协会
COMPOSITES = "51100000500009247D"  # 中国复合材料工业协会
SC_FOOD = sample_credit_code("51510000MJ9900001")  # 四川省食品工业协会

UNIT, COMPLAINANT, SUPERVISOR = "unit", "complainant", "supervisor"


@dataclass(frozen=True)
class Step:
    day: float  # days after the filing
    who: str  # UNIT: the demo handler of the case's unit; COMPLAINANT; SUPERVISOR: demo-supervisor
    move: str
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DaysLater:
    """A date field: this many days after the step's own day (China's date)."""
    days: int


def _supervise(day: float, within: int) -> Step:
    return Step(day, SUPERVISOR, "issue_supervision", {"respond_by": DaysLater(within), "internal_text":
                "请核实协会问题，督促限期整改，并于期限前报告办理情况。"})


@dataclass(frozen=True)
class DemoCase:
    days_ago: float
    data: dict
    steps: tuple[Step, ...] = ()


def _complaint(association, category, title, description, name, phone, **more) -> dict:
    return {"type": "complaint", "association": association, "category": category, "title": title,
            "description": description, "complainant": {"name": name, "phone": phone}, "privacy_consent": True,
            **more}


def _reply(text: str, finding: str | None = None, opinion: tuple[str, str] | None = None) -> dict:
    """A reply's values; ``opinion``: a complaint's (opinion, the laws it rests on), 信访工作条例 第三十二条."""
    return {"public_text": text, **({"finding": finding} if finding else {}),
            **({"opinion": opinion[0], "legal_basis": opinion[1]} if opinion else {})}


def _answered(accept: "Step", reply_day: int, text: str, finding: str, opinion: tuple[str, str], rate_day: int,
              rating: str, comment: str | None = None) -> tuple["Step", ...]:
    """Accepted, replied with a finding and an opinion, and rated by the complainant."""
    return (accept, Step(reply_day, UNIT, "reply", _reply(text, finding, opinion)),
            Step(rate_day, COMPLAINANT, "rate", {"rating": rating, **({"public_text": comment} if comment else {})}))


ACCEPT = Step(2, UNIT, "accept", {"public_text": "已受理，将在法定期限内办理并答复。"})
DEMO_CASES: tuple[DemoCase, ...] = (
    DemoCase(52, _complaint(COMPOSITES, "forced_membership", "以不入会不出具证明相要挟",
                            "协会称我公司若不加入协会并缴纳会费一万五千元，就不为我公司出具行业资质证明。",
                            "李明", "13800000001"),
             _answered(ACCEPT, 14, "经核查，协会确有将出具证明与入会挂钩的做法。已责令协会立即停止，退还已收取的会费，"
                       "并在全行业通报。", "substantiated",
                       ("supported", "《国务院办公厅关于进一步规范行业协会商会收费的通知》（国办发〔2020〕21号）"), 16, "satisfied", "处理及时，会费已退。")),
    DemoCase(44, _complaint(STEEL, "illegal_fees", "年会收取高额参会费",
                            "协会举办年会，要求会员企业每家缴纳参会费三万元，并与评优资格挂钩。",
                            "王芳", "13800000002"),
             _answered(Step(1, UNIT, "accept"), 18, "经调查，参会费标准未经会员大会审议。已要求协会重新审议收费标准，"
                       "并退还超出部分。", "partly_substantiated",
                       ("supported", "《民政部 财政部关于调整社会团体会费政策等有关问题的通知》（民发〔2003〕95号）"), 21, "basically_satisfied")),
    DemoCase(38, _complaint(STEEL, "illegal_awards", "未经批准开展评比表彰",
                            "协会开展“行业百强”评选，参评企业须缴纳评审费，评比项目未见批准文件。",
                            "赵强", "13800000003"),
             _answered(ACCEPT, 20, "经核查，该评选已列入经批准的评比达标表彰项目目录，评审费为自愿参加的服务收费，"
                       "未发现违规。", "not_substantiated",
                       ("not_supported", "《评比达标表彰活动管理办法》"), 23, "dissatisfied", "评审费仍与结果挂钩。")),
    DemoCase(33, _complaint(COMPOSITES, "illegal_fees", "协会收取认证费用",
                            "协会对产品认证收费，我公司已就同一事项申请行政复议。",
                            "陈静", "13800000004"),
             (Step(2, UNIT, "not_accept", {"reason": "other_procedure", "public_text":
                  "该事项已进入行政复议程序，依规不予受理；请等待复议结果。"}),)),
    DemoCase(64, _complaint(STEEL, "finance_assets", "协会财务公开不及时",
                            "协会连续两年未向会员公开年度财务报告，会员多次询问未果。",
                            "刘洋", "13800000005"),
             # supervised (督办) and reported on in time
             (ACCEPT, _supervise(50, 7), Step(55, UNIT, "report_supervision", {"internal_text":
                  "已约谈协会秘书长，责令一个月内公开近两年年度财务报告，并报送公开情况。"}))),
    DemoCase(26, _complaint(SC_FOOD, "service_quality", "培训服务与宣传不符",
                            "协会组织的食品安全培训收费两千元，实际只有半天录播课程，与宣传不符。",
                            "周敏", "13800000006"),
             (ACCEPT,)),
    DemoCase(22, {"type": "report", "association": STEEL, "category": "leader_misconduct",
                  "title": "协会负责人在会员企业兼职取酬",
                  "description": "协会一名副会长在多家会员企业担任顾问并领取报酬，利用协会职务为其招揽业务。",
                  "anonymous": True, "privacy_consent": True},
             (_supervise(10, 5),)),  # supervised; its unit (no demo staff) never reported
    # a named report: its reporter's identity is hidden on the desk until the custodian approves a request
    DemoCase(19, {"type": "report", "association": STEEL, "category": "illegal_fees",
                  "title": "协会以评比为名向企业摊派赞助费",
                  "description": "协会在年度评比中要求参评企业缴纳赞助费五万元，不缴纳的不能参评，已有多家企业被迫缴纳。",
                  "complainant": {"name": "郑强", "phone": "13800000009"}, "anonymous": False,
                  "privacy_consent": True},
             (Step(2, UNIT, "accept"),)),
    DemoCase(16, _complaint(AUTO, "unfair_competition", "协会组织会员统一报价",
                            "协会召集会员企业开会，要求各家对同类配件统一上调报价百分之十。",
                            "孙磊", "13800000007"),
             (Step(1, UNIT, "accept"), Step(3, UNIT, "request_info", {"public_text":
                  "请补充会议通知、会议纪要或其他能证明统一报价要求的材料。"}))),
    DemoCase(12, {"type": "suggestion", "association": COMPOSITES, "category": "policy",
                  "title": "建议公开会费标准及其依据",
                  "description": "建议协会在网站公开各档会费标准、会员大会决议和收费依据，便于会员监督。",
                  "complainant": {"name": "吴婷", "phone": "13800000008"}, "privacy_consent": True},
             (Step(4, UNIT, "acknowledge_reply", _reply(
                 "感谢您的建议。已要求协会在官方网站公开会费标准及会员大会决议，并在年度报告中说明收费依据。")),)),
    DemoCase(7, {"type": "mediation", "association": AUTO, "category": "member_contract",
                 "title": "配件货款纠纷", "description": "我公司向另一会员企业供货后，对方以质量问题为由拒付货款三十万元。",
                 "complainant": {"name": "郑华", "phone": "13800000009"}, "privacy_consent": True,
                 "claim": "请求对方支付货款三十万元。", "amount": "300000",
                 "respondent": {"name": "某某零部件有限公司（示例）", "kind": "member_company", "phone": "13900000001"}}),
    DemoCase(4, _complaint(COMPOSITES, "forced_membership", "要求分支机构会员重复缴费",
                           "协会要求我公司作为分会会员再向总会缴纳一次会费。", "黄磊", "13800000010"),
             (Step(1, UNIT, "accept"), _supervise(1.5, 5))),  # supervised, the report awaited
    DemoCase(1.5, _complaint(STEEL, "illegal_fees", "协会强制订阅刊物",
                             "协会要求会员企业每年订阅协会刊物，每份一千二百元，不订阅不予评优。", "杨帆", "13800000011")),
    DemoCase(0.2, {"type": "complaint", "association_hint": "某某市行业商会（示例）", "category": "illegal_fees",
                   "title": "商会收取咨询费", "description": "一家自称商会的组织向我公司收取政策咨询费五千元。",
                   "complainant": {"name": "林晓", "phone": "13800000012"}, "privacy_consent": True}),
)


@dataclass(frozen=True)
class Filed:
    number: str
    query_code: str
    state: str
    title: str
    unit: str  # the unit that holds it (its demo handler sees it)


def load_demo_cases(session: Session, services: Services, now: datetime | None = None) -> list[Filed]:
    """File the demo cases and play their moves; nothing if the database has any case.
    Flushes, never commits. Needs the demo registry and the demo staff."""
    from casework.intake.operations import submit_case
    from casework.intake.validation import validate_submission
    from casework.workflow.machine import perform

    if session.scalar(select(exists().where(Case.id.is_not(None)))):
        return []
    now = now or services.clock()
    handlers = _demo_handlers(session)
    filed = []
    for demo in DEMO_CASES:
        start = now - timedelta(days=demo.days_ago)
        at = {"now": start}
        svc = dataclasses.replace(services, clock=lambda: at["now"])
        sub, errors = validate_submission(session, demo.data)
        if errors:
            raise ValueError(f"demo case {demo.data['title']}: {errors}")
        receipt = submit_case(session, svc, sub, channel=Channel.web)
        case = session.get(Case, receipt.case_id)
        for step in demo.steps:
            at["now"] = start + timedelta(days=step.day)
            if step.who == COMPLAINANT:
                actor = Actor.complainant(case.id)
            elif step.who == SUPERVISOR:
                actor = _demo_supervisor(session)
            elif case.unit_id in handlers:
                actor = handlers[case.unit_id]
            else:
                break  # no demo staff in that unit: the case waits there
            perform(session, svc, actor, case, step.move, **_fields(step, at["now"]))
        session.flush()
        filed.append(Filed(receipt.case_number, receipt.query_code, case.state.value, case.title,
                           case.unit.code if case.unit is not None else "-"))
    return filed


def _fields(step: Step, now: datetime) -> dict:
    from casework.deadlines.calendar import china_date

    return {k: (china_date(now) + timedelta(days=v.days)).isoformat() if isinstance(v, DaysLater) else v
            for k, v in step.fields.items()}


def _demo_supervisor(session: Session) -> Actor:
    name = next(s.username for s in DEMO_STAFF if s.role is Role.supervisor)
    return Actor.staff(session.scalar(select(User).where(User.username == name)))


def _demo_handlers(session: Session) -> dict[int, Actor]:
    """unit id -> the demo handler of that unit."""
    names = [s.username for s in DEMO_STAFF if s.role is Role.handler]
    out = {}
    for user in session.scalars(select(User).where(User.username.in_(names))):
        actor = Actor.staff(user)
        for m in user.memberships:
            if m.role is Role.handler:
                out.setdefault(m.unit_id, actor)
    return out
