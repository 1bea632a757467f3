"""Issue 16: the supervision pages in English name units and associations in English
(Unit.name_en, Association.name_en), as the desk does; in Chinese they keep the Chinese names."""
import re

from sqlalchemy import select

from casework.accounts.models import Role
from casework.registry.models import Unit
from casework.stats.risk import grade_all
from casework.stats.rollup import refresh
from tests.web.test_supervise import sign_in, utcnow

CJK = re.compile(r"[\u3400-\u9fff]")


def options(page: str, name: str) -> list[str]:
    select_ = re.search(rf'<select id="[^"]+" name="{name}">(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select_)


def test_supervision_pages_name_units_in_english_on_english_pages(client, db, services, make_staff, hand_counted):
    refresh(db, utcnow)
    grade_all(db, services.settings, utcnow)
    sign_in(client, db, make_staff("mca", Role.supervisor))
    with db.session_scope(write=False) as s:
        mca = s.scalar(select(Unit).where(Unit.code == "mca"))
        mca_id, mca_zh, mca_en = mca.id, mca.name, mca.name_en
    assert mca_en and CJK.search(mca_zh)
    client.set_cookie("lang", "en")
    dashboard = client.get("/supervise").get_data(as_text=True)
    overdue = client.get("/supervise/overdue").get_data(as_text=True)
    risk = client.get("/supervise/risk?authority=").get_data(as_text=True)
    for page, name in ((dashboard, "unit"), (overdue, "unit"), (risk, "authority")):
        named = options(page, name)
        assert mca_en in named or name == "authority", named
        assert not [n for n in named if CJK.search(n)], named
    heading = re.search(r"<h1>([^<]*)</h1>", client.get(f"/supervise?unit={mca_id}").get_data(as_text=True)).group(1)
    assert mca_en in heading and mca_zh not in heading
    rows = re.findall(r'<th scope="row">([^<]*)<br>', risk)
    assert not [r for r in rows if CJK.search(r)], rows
    client.set_cookie("lang", "zh")
    assert mca_zh in options(client.get("/supervise").get_data(as_text=True), "unit")
