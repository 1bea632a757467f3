"""Fill an empty database with a realistic case load for the queue benchmark.

    .venv/bin/python bench/generate.py URL [--cases 1000000] [--associations 3000] [--units 300]

URL is a SQLAlchemy URL (``sqlite:////tmp/x.sqlite`` or ``postgresql+psycopg://root@127.0.0.1/db``).
The database must be empty (or hold only the schema and the demo registry): the script migrates
it (``casework.migrate.upgrade``), runs ``load_demo`` for the categories, routing rules and time
limits, then inserts

* ``--units`` units (industry departments, registration authorities, supervisory units, party
  work departments, mediation bodies; 6-digit region codes), ``bench-0001`` …;
* ``--associations`` associations with unique 18-character credit codes (body ``511000005`` +
  8 digits + GB 32100-2015 check digit), names in Chinese, pinyin initials indexed;
* ``--cases`` cases submitted over the last ``--years`` years, ids ascending with the submission
  time, one ``submitted`` event each. States: ~75% done (closed / not_accepted / withdrawn;
  mediated / mediation_failed for mediation requests), ~10% pending_acceptance, ~10% being
  handled (accepted; mediating for mediation requests), ~3% need_info (resume_state
  'accepted'), ~2% received (no unit: the triage queue). Open cases carry their stage and
  deadline (due_at); ~1% of all cases are past it (overdue=True). Units and associations are
  picked with a Zipf-like skew (the biggest unit holds ~4% of all cases).

Rows go in with SQLAlchemy Core ``insert()`` executemany, 10,000 per batch, one commit per batch;
on PostgreSQL cases and events go in with COPY (psycopg) instead. Rows/s are printed.
Case numbers have the real format (TS20261127483927: prefix, China date, five digits, Luhn
digit) and are unique (a per-day counter, permuted).
"""
from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
import time
from datetime import datetime, timezone
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# keep bench/ off sys.path: bench/queue.py would shadow the standard library's ``queue``
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from stdnum import luhn  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

import casework.models  # noqa: E402,F401  (fills the metadata)
from casework.cases.models import Case, Category, Event  # noqa: E402
from casework.db import Database  # noqa: E402
from casework.migrate import upgrade  # noqa: E402
from casework.registry.demo import load_demo  # noqa: E402
from casework.registry.lookup import pinyin_initials  # noqa: E402
from casework.registry.models import Association, Unit  # noqa: E402

UTC = timezone.utc
DAY = 86400.0
HOUR = 3600.0
CHINA_OFFSET = 8 * 3600  # Asia/Shanghai has no DST
BATCH = 10_000

# --- registry vocabulary ---------------------------------------------------------------------

REGIONS = (
    ("100000", "国家"), ("110000", "北京市"), ("120000", "天津市"), ("310000", "上海市"),
    ("500000", "重庆市"), ("130000", "河北省"), ("140000", "山西省"), ("210000", "辽宁省"),
    ("220000", "吉林省"), ("230000", "黑龙江省"), ("320000", "江苏省"), ("320100", "南京市"),
    ("320500", "苏州市"), ("330000", "浙江省"), ("330100", "杭州市"), ("330200", "宁波市"),
    ("340000", "安徽省"), ("350000", "福建省"), ("350200", "厦门市"), ("360000", "江西省"),
    ("370000", "山东省"), ("370200", "青岛市"), ("410000", "河南省"), ("420000", "湖北省"),
    ("420100", "武汉市"), ("430000", "湖南省"), ("440000", "广东省"), ("440100", "广州市"),
    ("440300", "深圳市"), ("450000", "广西壮族自治区"), ("510000", "四川省"), ("510100", "成都市"),
    ("520000", "贵州省"), ("530000", "云南省"), ("610000", "陕西省"), ("610100", "西安市"),
)
INDUSTRIES = (
    "钢铁", "汽车", "物流", "食品", "家具", "餐饮", "建筑", "建材", "电子", "软件", "纺织", "服装",
    "医药", "化工", "有色金属", "机械", "旅游", "酒店", "房地产", "物业管理", "律师", "会计",
    "广告", "印刷", "包装", "煤炭", "电力", "石油", "造纸", "皮革", "玩具", "茶叶", "酿酒",
    "乳制品", "水产", "农机", "家电", "照明", "陶瓷", "珠宝",
)
ASSOC_SUFFIXES = ("协会", "商会", "同业公会", "行业协会", "联合会")
DEPARTMENTS = ("发展和改革委员会", "经济和信息化厅", "商务厅", "交通运输厅", "市场监督管理局",
               "住房和城乡建设厅", "文化和旅游厅", "农业农村厅", "卫生健康委员会", "司法厅")
# (kind, share of the units, name pattern)
UNIT_KINDS = (
    ("industry_department", 0.45), ("registration_authority", 0.25), ("supervisory_unit", 0.10),
    ("party_work_department", 0.05), ("mediation_body", 0.15),
)

# --- case vocabulary -------------------------------------------------------------------------

TYPE_WEIGHTS = (("complaint", 70), ("report", 15), ("mediation", 10), ("suggestion", 5))
PREFIX = {"complaint": "TS", "report": "JB", "mediation": "TJ", "suggestion": "JY"}
GROUP_OF_TYPE = {"complaint": "grievance", "report": "grievance", "mediation": "mediation",
                 "suggestion": "suggestion"}
TITLES = {
    "grievance": (
        "协会强制要求入会并收取会费", "违规收取评比表彰费用", "协会以行业证明为由乱收费",
        "换届选举程序不公开", "协会擅自设立分支机构收费", "协会财务不公开", "会长利用职务谋取私利",
        "假冒协会名义收取培训费", "协会组织价格联盟限制竞争", "信用评价结果有误要求更正",
        "协会服务质量差、推诿扯皮", "强制摊派会刊订阅费用", "违规开展达标认证活动",
    ),
    "mediation": (
        "会员企业之间货款纠纷申请调解", "与协会就会费退还发生纠纷", "消费者与会员单位质量纠纷",
        "商标使用纠纷申请调解", "工程款拖欠纠纷", "合作合同违约纠纷",
    ),
    "suggestion": (
        "建议简化入会手续", "建议公开收费标准", "关于完善行业自律公约的建议",
        "建议增加线上服务渠道", "关于减轻中小企业负担的建议",
    ),
}
OPENINGS = (
    "我公司是一家位于{city}的{industry}企业，", "本人是{assoc}的会员单位负责人，",
    "我们是{city}一家从事{industry}业务的小微企业，", "我是{assoc}所在行业的从业人员，",
    "我单位于{year}年加入{assoc}，",
)
PROBLEMS = (
    "{month}月协会通知我们必须缴纳{amount}元{fee}，否则不予出具行业证明。",
    "协会要求会员单位参加其组织的评比活动，每家收取{amount}元，不参加就在年检中设置障碍。",
    "协会在未经会员大会表决的情况下，将会费标准上调至{amount}元。",
    "协会负责人多次以协会名义向企业摊派费用，合计约{amount}元，未开具正规票据。",
    "对方拖欠我方货款{amount}元，多次协商未果，现申请协会组织调解。",
    "协会组织部分会员企业统一报价，排挤不参与的企业，造成我公司损失约{amount}元。",
    "协会换届时未按章程公示候选人名单，会员对选举结果有异议。",
    "我们希望协会能公开各项服务收费标准和资金使用情况。",
)
DETAILS = (
    "我们已向协会秘书处书面反映，至今没有答复。", "相关通知和转账记录已作为附件一并提交。",
    "同行业多家企业反映存在同样情况。", "协会工作人员表示这是理事会的决定，无法更改。",
    "", "", "此事已持续{months}个月，严重影响企业正常经营。",
)
REQUESTS = (
    "请有关部门依法查处，并退还违规收取的费用。", "希望主管部门督促协会整改。",
    "恳请尽快处理并答复。", "请依法依规予以调查核实。", "希望组织双方调解，妥善解决纠纷。",
    "建议相关部门予以研究采纳。",
)
FEES = ("会费", "评比费", "证书费", "培训费", "会刊费", "赞助费", "服务费")

DONE_STATES = {
    "default": (("closed", 80), ("not_accepted", 12), ("withdrawn", 8)),
    "mediation": (("mediated", 50), ("mediation_failed", 25), ("not_accepted", 15), ("withdrawn", 10)),
}
# buckets: (bucket, share of all cases)
BUCKETS = (("done", 0.75), ("pending", 0.10), ("handling", 0.10), ("need_info", 0.03),
           ("received", 0.02))
# share of each open bucket that is past its deadline: 0.10*0.06 + 0.10*0.03 + 0.02*0.05 = 1%
OVERDUE_SHARE = {"handling": 0.06, "pending": 0.03, "received": 0.05, "need_info": 0.0, "done": 0.0}

CASE_COLUMNS = (
    "id", "number", "type", "state", "channel", "association_id", "association_hint", "category_id",
    "title", "description", "unit_id", "handler_id", "resume_state", "stage", "stage_started_at",
    "due_at", "paused_at", "extended", "overdue", "supervision_level", "reminded_for_due",
    "reviews_requested", "rating", "anonymous", "complainant_name_enc", "complainant_phone_enc",
    "complainant_email_enc", "complainant_id_number_enc", "respondent_name_enc",
    "respondent_phone_enc", "query_code_hash", "locale", "idempotency_key", "submitted_at",
    "updated_at", "version",
)
EVENT_COLUMNS = ("id", "case_id", "created_at", "actor_kind", "actor_id", "kind", "from_state",
                 "to_state", "summary", "public_text", "internal_text", "data")


def weighted(pairs):
    """(values, cumulative weights) for bisect-based sampling."""
    values = [v for v, _ in pairs]
    return values, list(accumulate(w for _, w in pairs))


def pick(rng: random.Random, values, cum) -> object:
    return values[bisect.bisect_right(cum, rng.random() * cum[-1])]


def zipf_cum(n: int, s: float) -> list[float]:
    return list(accumulate((k + 1) ** -s for k in range(n)))


def ts(x: float) -> datetime:
    return datetime.fromtimestamp(x, UTC)


# --- registry --------------------------------------------------------------------------------

def make_units(rng: random.Random, n: int, first_id: int) -> list[dict]:
    kinds, kcum = weighted(UNIT_KINDS)
    rows = []
    for i in range(n):
        kind = kinds[i % len(kinds)] if i < len(kinds) else pick(rng, kinds, kcum)
        code, region = rng.choice(REGIONS)
        level = "国家" if code == "100000" else region
        if kind == "industry_department":
            name = f"{level}{rng.choice(DEPARTMENTS)}"
        elif kind == "registration_authority":
            name = f"{level}民政{'部' if code == '100000' else ('厅' if code.endswith('0000') else '局')}"
        elif kind == "supervisory_unit":
            name = f"{level}{rng.choice(DEPARTMENTS)}（业务主管单位）"
        elif kind == "party_work_department":
            name = f"{level}社会工作部"
        else:
            name = f"{level}{rng.choice(INDUSTRIES)}行业调解中心"
        rows.append({
            "id": first_id + i, "code": f"bench-{i + 1:04d}", "name": f"{name}（基准{i + 1}）",
            "name_en": f"Benchmark unit {i + 1}", "kind": kind, "region_code": code, "active": True,
            "lead_approves_not_accept": rng.random() < 0.2,
            "notice_email": f"unit{i + 1}@bench.example.org", "created_at": datetime.now(UTC),
        })
    return rows


def make_associations(rng: random.Random, n: int, first_id: int, units: list[dict]) -> list[dict]:
    by_kind: dict[str, list[int]] = {}
    for u in units:
        by_kind.setdefault(u["kind"], []).append(u["id"])
    combos = [(r, ind, suf) for r in REGIONS for ind in INDUSTRIES for suf in ASSOC_SUFFIXES]
    rng.shuffle(combos)
    rows = []
    for i in range(n):
        (code, region), industry, suffix = combos[i % len(combos)]
        prefix = "中国" if code == "100000" else region
        name = f"{prefix}{industry}{suffix}" + ("" if i < len(combos) else f"（{i // len(combos) + 1}）")
        body = f"511000005{10_000_000 + i:08d}"
        credit = body + uscc.calc_check_digit(body)
        level = ("national" if code == "100000" else "provincial" if code.endswith("0000")
                 else "municipal" if rng.random() < 0.8 else "county")
        decoupled = rng.random() < 0.9
        rows.append({
            "id": first_id + i, "credit_code": credit, "name": name, "abbreviation": None,
            "name_en": None, "pinyin_initials": pinyin_initials(name), "level": level,
            "region_code": code, "status": "active" if rng.random() < 0.97 else "deregistered",
            "decoupled": decoupled,
            "registration_authority_id": rng.choice(by_kind["registration_authority"]),
            "main_industry_department_id": rng.choice(by_kind["industry_department"]),
            "supervisory_unit_id": None if decoupled else rng.choice(by_kind["supervisory_unit"]),
            "mediation_body_id": rng.choice(by_kind["mediation_body"]) if rng.random() < 0.2 else None,
            "party_work_department_id": (rng.choice(by_kind["party_work_department"])
                                         if rng.random() < 0.5 else None),
            "is_sample": True, "created_at": datetime.now(UTC),
        })
    return rows


# --- cases -----------------------------------------------------------------------------------

def case_skeletons(rng: random.Random, n: int, now: float, years: float) -> list[tuple]:
    """(submitted, type, bucket, due, overdue, stage_started, paused) per case, by submission time."""
    types, tcum = weighted(TYPE_WEIGHTS)
    buckets, bcum = weighted(BUCKETS)
    span = years * 365 * DAY
    out = []
    U = rng.uniform
    for _ in range(n):
        ctype = pick(rng, types, tcum)
        bucket = pick(rng, buckets, bcum)
        overdue = rng.random() < OVERDUE_SHARE[bucket]
        due = started = paused = None
        if bucket == "done":
            submitted = now - U(1 * DAY, span)
        elif bucket == "received":  # triage: 3 days
            due = now - U(HOUR, 2 * DAY) if overdue else now + U(HOUR, 3 * DAY)
            submitted = started = due - 3 * DAY
        elif bucket == "pending":  # acceptance: 7 days after routing
            due = now - U(HOUR, 20 * DAY) if overdue else now + U(HOUR, 7 * DAY)
            started = due - 7 * DAY
            submitted = started - U(60, 2 * DAY)
        elif bucket == "handling":  # handling: 60 days after acceptance
            due = now - U(HOUR, 60 * DAY) if overdue else now + U(HOUR, 60 * DAY)
            started = due - 60 * DAY
            submitted = started - U(DAY, 7 * DAY)
        else:  # need_info: handling clock paused while the complainant supplies material
            # (its deadline lies ahead: the clock stopped when the material was requested)
            paused = now - U(HOUR, 30 * DAY)
            due = now + U(DAY, 50 * DAY)
            started = min(due - 60 * DAY, paused - HOUR)
            submitted = started - U(DAY, 7 * DAY)
        submitted = min(submitted, now - 60)
        out.append((submitted, ctype, bucket, due, overdue, started, paused))
    out.sort(key=lambda r: r[0])
    return out


class CaseFactory:
    def __init__(self, rng: random.Random, now: float, unit_ids: list[int], assoc_ids: list[int],
                 categories: dict[str, list[int]]):
        self.rng = rng
        self.now = now
        self.units = unit_ids[:]
        rng.shuffle(self.units)  # which unit is biggest is arbitrary
        self.unit_cum = zipf_cum(len(self.units), 0.6)
        self.assocs = assoc_ids[:]
        rng.shuffle(self.assocs)
        self.assoc_cum = zipf_cum(len(self.assocs), 0.8)
        self.categories = categories
        self.done = {k: weighted(v) for k, v in DONE_STATES.items()}
        self.day_counter: dict[int, int] = {}
        self.day_str: dict[int, str] = {}
        self.salt = rng.randrange(100_000)

    def number(self, ctype: str, submitted: float) -> str:
        day = int((submitted + CHINA_OFFSET) // DAY)
        k = self.day_counter.get(day, 0)
        if k >= 100_000:
            raise RuntimeError("more than 100,000 cases on one day: numbers would repeat")
        self.day_counter[day] = k + 1
        ds = self.day_str.get(day)
        if ds is None:
            ds = self.day_str[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y%m%d")
        body = f"{ds}{(k * 7919 + self.salt) % 100_000:05d}"  # 7919 is prime to 10^5: a permutation
        return PREFIX[ctype] + body + luhn.calc_check_digit(body)

    def text(self, group: str, assoc_name: str) -> tuple[str, str]:
        r = self.rng
        title = r.choice(TITLES[group])
        region = r.choice(REGIONS)[1]
        fill = dict(city=region, industry=r.choice(INDUSTRIES), assoc=assoc_name,
                    year=r.randint(2015, 2025), month=r.randint(1, 12),
                    amount=r.choice((800, 1500, 2000, 3000, 5000, 8000, 12000, 20000, 50000)),
                    fee=r.choice(FEES), months=r.randint(2, 18))
        parts = [r.choice(OPENINGS), r.choice(PROBLEMS), r.choice(DETAILS), r.choice(DETAILS),
                 r.choice(REQUESTS)]
        return title, "".join(parts).format(**fill)

    def rows(self, case_id: int, sk: tuple, assoc_names: dict[int, str]) -> tuple[tuple, tuple]:
        r = self.rng
        submitted, ctype, bucket, due, overdue, started, paused = sk
        group = GROUP_OF_TYPE[ctype]
        category_id = r.choice(self.categories[group])
        if r.random() < 0.03:
            association_id, hint = None, f"{r.choice(REGIONS)[1]}{r.choice(INDUSTRIES)}协会（未在名录中）"
            assoc_name = hint
        else:
            association_id = self.assocs[bisect.bisect_right(self.assoc_cum, r.random() * self.assoc_cum[-1])]
            hint, assoc_name = None, assoc_names[association_id]
        unit_id = self.units[bisect.bisect_right(self.unit_cum, r.random() * self.unit_cum[-1])]
        resume_state = stage = rating = None
        extended = False
        updated = submitted
        if bucket == "done":
            dv, dc = self.done["mediation" if ctype == "mediation" else "default"]
            state = pick(r, dv, dc)
            updated = min(submitted + r.uniform(DAY, 90 * DAY), self.now - 60)
            if state == "closed" and r.random() < 0.6:
                rating = r.choice(("satisfied", "satisfied", "basically_satisfied", "dissatisfied"))
        elif bucket == "received":
            state, stage, unit_id = "received", "triage", None
        elif bucket == "pending":
            state, stage, updated = "pending_acceptance", "acceptance", started
        elif bucket == "handling":
            state = "mediating" if ctype == "mediation" else "accepted"
            stage = "mediation" if ctype == "mediation" else "handling"
            updated = started
            extended = r.random() < 0.1
        else:
            state, stage, resume_state, updated = "need_info", "handling", "accepted", paused
        anonymous = ctype == "report" and r.random() < 0.3
        rb = r.randbytes
        if anonymous:
            name_enc = phone_enc = email_enc = id_enc = None
        else:
            name_enc = rb(r.randint(40, 56))
            phone_enc = rb(51) if r.random() < 0.95 else None
            email_enc = rb(r.randint(50, 70)) if r.random() < 0.5 else None
            id_enc = rb(58) if r.random() < 0.3 else None
        if ctype == "mediation":
            resp_name, resp_phone = rb(r.randint(40, 60)), rb(51) if r.random() < 0.7 else None
        else:
            resp_name = resp_phone = None
        title, description = self.text(group, assoc_name)
        channel = "web" if r.random() < 0.85 else "api"
        sub_dt = ts(submitted)
        due_dt = ts(due) if due is not None else None
        case = (
            case_id, self.number(ctype, submitted), ctype, state, channel, association_id, hint,
            category_id, title, description, unit_id, None, resume_state, stage,
            ts(started) if started is not None else None, due_dt,
            ts(paused) if paused is not None else None, extended, overdue,
            r.randint(0, 2) if overdue else 0, due_dt if overdue else None,
            0, rating, anonymous, name_enc, phone_enc, email_enc, id_enc, resp_name, resp_phone,
            rb(32).hex(), "zh_CN" if r.random() < 0.97 else "en", None, sub_dt, ts(updated), 1,
        )
        event = (case_id, case_id, sub_dt, "public", None, "submitted", None, "received",
                 f"{ctype} submitted via {channel}", None, None,
                 {"channel": channel, "anonymous": anonymous})
        return case, event


# --- writing ---------------------------------------------------------------------------------

def _copy(raw, table: str, columns: tuple[str, ...], rows: list[tuple], json_cols=()) -> None:
    idx = [columns.index(c) for c in json_cols]
    with raw.cursor() as cur:
        cols = ", ".join(columns)
        with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as cp:
            for row in rows:
                if idx:
                    row = list(row)
                    for i in idx:
                        row[i] = json.dumps(row[i])
                cp.write_row(row)


def _fix_sequences(conn, tables) -> None:
    for t in tables:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('\"{t}\"', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM \"{t}\"))"))


def generate(url: str, cases: int = 1_000_000, associations: int = 3000, units: int = 300,
             years: float = 2.0, seed: int = 20261127, batch: int = BATCH, quiet: bool = False) -> dict:
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    rng = random.Random(seed)
    t0 = time.perf_counter()
    upgrade(url)
    db = Database(url)
    pg = not db.is_sqlite
    stats: dict = {"url": url}
    try:
        with db.engine.connect() as conn:
            have = conn.scalar(select(func.count()).select_from(Case.__table__))
            if have:
                raise SystemExit(f"{url}: the case table already holds {have} rows; use an empty database")
        with db.session_scope() as s:
            load_demo(s)
        say(f"migrated and loaded the demo registry in {time.perf_counter() - t0:.1f} s")

        with db.engine.begin() as conn:
            if conn.scalar(select(func.count()).select_from(Unit.__table__).where(Unit.code.like("bench-%"))):
                raise SystemExit("bench units exist already; use an empty database")
            first_unit = (conn.scalar(select(func.max(Unit.id))) or 0) + 1
            unit_rows = make_units(rng, units, first_unit)
            conn.execute(insert(Unit.__table__), unit_rows)
            first_assoc = (conn.scalar(select(func.max(Association.id))) or 0) + 1
            assoc_rows = make_associations(rng, associations, first_assoc, unit_rows)
            conn.execute(insert(Association.__table__), assoc_rows)
            cats: dict[str, list[int]] = {}
            for cid, group in conn.execute(select(Category.id, Category.group).where(Category.active)):
                cats.setdefault(group.value if hasattr(group, "value") else group, []).append(cid)
            if pg:
                _fix_sequences(conn, ("unit", "association"))
        say(f"inserted {units} units and {associations} associations")

        now = time.time()
        t1 = time.perf_counter()
        skeletons = case_skeletons(rng, cases, now, years)
        factory = CaseFactory(rng, now, [u["id"] for u in unit_rows], [a["id"] for a in assoc_rows], cats)
        assoc_names = {a["id"]: a["name"] for a in assoc_rows}
        say(f"planned {cases} cases in {time.perf_counter() - t1:.1f} s; inserting in batches of {batch}"
            + (" (COPY)" if pg else " (Core executemany)"))

        case_table, event_table = Case.__table__, Event.__table__
        t_build = t_write = 0.0
        done = 0
        t2 = time.perf_counter()
        with db.engine.connect() as conn:
            if pg:
                conn.exec_driver_sql("SET synchronous_commit = off")
            else:
                conn.exec_driver_sql("PRAGMA cache_size = -400000")  # 400 MB while the indexes grow
            conn.commit()
            for start in range(0, cases, batch):
                tb = time.perf_counter()
                case_rows, event_rows = [], []
                for i, sk in enumerate(skeletons[start:start + batch], start=start + 1):
                    c, e = factory.rows(i, sk, assoc_names)
                    case_rows.append(c)
                    event_rows.append(e)
                tw = time.perf_counter()
                t_build += tw - tb
                with conn.begin():
                    if pg:
                        raw = conn.connection.driver_connection
                        _copy(raw, "case", CASE_COLUMNS, case_rows)
                        _copy(raw, "event", EVENT_COLUMNS, event_rows, json_cols=("data",))
                    else:
                        conn.execute(insert(case_table), [dict(zip(CASE_COLUMNS, r)) for r in case_rows])
                        conn.execute(insert(event_table), [dict(zip(EVENT_COLUMNS, r)) for r in event_rows])
                t_write += time.perf_counter() - tw
                done += len(case_rows)
                if not quiet and (done % (batch * 10) == 0 or done == cases):
                    el = time.perf_counter() - t2
                    print(f"  {done:>9,} cases  {done / el:>9,.0f} cases/s  "
                          f"({2 * done / el:,.0f} rows/s incl. events)", flush=True)
            if pg:
                with conn.begin():
                    _fix_sequences(conn, ("case", "event"))
        elapsed = time.perf_counter() - t2
        stats.update(cases=cases, events=cases, seconds=elapsed, cases_per_s=cases / elapsed,
                     rows_per_s=2 * cases / elapsed, build_s=t_build, write_s=t_write,
                     write_rows_per_s=2 * cases / t_write if t_write else 0.0,
                     total_s=time.perf_counter() - t0)
        say(f"inserted {cases:,} cases + {cases:,} events in {elapsed:.1f} s: "
            f"{stats['rows_per_s']:,.0f} rows/s overall ({stats['cases_per_s']:,.0f} cases/s); "
            f"building rows {t_build:.1f} s, database writes {t_write:.1f} s "
            f"= {stats['write_rows_per_s']:,.0f} rows/s written")
        return stats
    finally:
        db.dispose()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="SQLAlchemy URL of an empty database")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--associations", type=int, default=3000)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--years", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--batch", type=int, default=BATCH)
    a = ap.parse_args(argv)
    if a.units < 10 or a.associations < 1:
        ap.error("need at least 10 units and 1 association")
    generate(a.url, cases=a.cases, associations=a.associations, units=a.units, years=a.years,
             seed=a.seed, batch=a.batch)


if __name__ == "__main__":
    main()
