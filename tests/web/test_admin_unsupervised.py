"""The administrator is warned before a unit's overdue cases escalate to nobody: a unit in use
(not the platform's triage) with no supervising unit is named on /admin's warnings, marked on the
units list and said on its own page, in Chinese and English."""
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.registry.models import Unit, UnitKind
from tests.web.test_admin_routing import login_as


def _admin(client, db, make_staff):
    login_as(client, db, make_staff("mca", Role.administrator))
    return client


def _supervisor_of(db, code, upper):
    with db.session_scope() as s:
        up = s.scalar(select(Unit.id).where(Unit.code == upper)) if upper else None
        s.execute(update(Unit).where(Unit.code == code).values(supervising_unit_id=up))


def test_a_unit_without_a_supervising_unit_is_warned_of_everywhere(client, db, make_staff):
    admin = _admin(client, db, make_staff)
    with db.session_scope() as s:  # every unit answers to one, but miit
        top = s.scalar(select(Unit).where(Unit.code == "swd-central"))
        mca = s.scalar(select(Unit.id).where(Unit.code == "mca"))
        s.execute(update(Unit).where(Unit.id != top.id).values(supervising_unit_id=top.id))
        s.execute(update(Unit).where(Unit.id == top.id).values(supervising_unit_id=mca))
    _supervisor_of(db, "miit", None)
    home = admin.get("/admin").get_data(as_text=True)
    warning = home.split('id="units-unsupervised"')[1].split("</div>")[0]
    assert "1 个在用单位未设上级督办单位" in warning and 'href="/admin/units/miit"' in warning
    assert "工业和信息化部" in warning and "mca" not in warning
    units = admin.get("/admin/units").get_data(as_text=True)
    assert 'id="unsupervised-miit"' in units and "未设置：超期案件督办无人接收" in units
    assert 'id="unsupervised-mca"' not in units
    assert "中央社会工作部" in units.split('id="unit-mca"')[1].split("</tr>")[0]  # the supervising unit, named
    page = admin.get("/admin/units/miit").get_data(as_text=True)
    assert 'id="unit-unsupervised"' in page and "督办无人接收" in page
    assert 'id="unit-unsupervised"' not in admin.get("/admin/units/mca").get_data(as_text=True)

    client.set_cookie("lang", "en")
    home = admin.get("/admin").get_data(as_text=True)
    assert "1 unit in use has no supervising unit" in home.split('id="units-unsupervised"')[1]
    assert "None: overdue cases escalate to nobody" in admin.get("/admin/units").get_data(as_text=True)
    assert "the supervision (督办) reaches nobody" in admin.get("/admin/units/miit").get_data(as_text=True)

    # set it, and every warning goes
    _supervisor_of(db, "miit", "swd-central")
    assert 'id="units-unsupervised"' not in admin.get("/admin").get_data(as_text=True)
    assert 'id="unsupervised-' not in admin.get("/admin/units").get_data(as_text=True)
    assert 'id="unit-unsupervised"' not in admin.get("/admin/units/miit").get_data(as_text=True)


def test_triage_and_units_out_of_use_are_not_warned_of(client, db, make_staff):
    admin = _admin(client, db, make_staff)
    with db.session_scope() as s:
        top = s.scalar(select(Unit.id).where(Unit.code == "swd-central"))
        s.execute(update(Unit).values(supervising_unit_id=top))
        s.execute(update(Unit).where(Unit.kind == UnitKind.triage).values(supervising_unit_id=None))
        s.execute(update(Unit).where(Unit.code == "samr").values(supervising_unit_id=None, active=False))
        s.execute(update(Unit).where(Unit.code == "swd-central").values(supervising_unit_id=None))
    home = admin.get("/admin").get_data(as_text=True)
    warning = home.split('id="units-unsupervised"')[1].split("</div>")[0]
    # the top of the chain is named (its overdue cases too escalate to nobody); triage and a unit out of use are not
    assert "/admin/units/swd-central" in warning and "/admin/units/samr" not in warning
    assert "1 个在用单位" in warning and "triage" not in warning
