"""Similar cases on the case page (and marking a duplicate from there), and the public filing
form's "similar matters already being handled": counts per category only."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from casework.accounts.models import Role
from casework.cases.models import Case, CaseState as S, EventKind
from casework.search.sync import reindex_all
from casework.search.whoosh_backend import WhooshBackend
from tests.web.test_admin_routing import login_as
from tests.web.test_public_pages import form_data, open_form

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LONG = "，请协会依法处理并答复。"
ASSOC = "51100000500009247D"


@pytest.fixture
def backend(app, tmp_path, monkeypatch):
    b = WhooshBackend(tmp_path / "search")
    monkeypatch.setitem(app.config, "CHANGTONG_SEARCH_BACKEND", b)
    return b


@pytest.fixture
def world(db, services, backend, file_case):
    cases = {
        "base": file_case(title="协会强制入会收取会费", description="协会要求必须强制入会并收取会费两万元" + LONG),
        "twin": file_case(title="强制入会并收取会费", description="协会强制入会，收取会费三万元" + LONG),
        "elsewhere": file_case(category="finance_assets", title="强制入会收取会费",
                               description="协会强制入会收取会费" + LONG),
    }
    reindex_all(db, services, backend)
    return {k: v.case_number for k, v in cases.items()}


def test_the_case_page_suggests_similar_cases_of_the_viewers_units(client, db, world, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    html = client.get(f"/desk/cases/{world['base']}").get_data(as_text=True)
    assert 'id="similar-cases"' in html
    assert f'id="similar-{world["twin"]}"' in html
    assert world["elsewhere"] not in html  # another unit's case is never suggested
    assert f'id="link-{world["twin"]}"' in html


def test_a_supervisor_sees_suggestions_but_no_button(client, db, world, make_staff):
    login_as(client, db, make_staff("mca", Role.supervisor))
    html = client.get(f"/desk/cases/{world['base']}").get_data(as_text=True)
    assert f'id="similar-{world["twin"]}"' in html and f'id="similar-{world["elsewhere"]}"' in html
    assert 'id="link-' not in html


def test_marking_a_duplicate_from_the_box_closes_it_and_tells_the_complainant(client, db, world, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    html = client.get(f"/desk/cases/{world['base']}").get_data(as_text=True)
    # the box's button closes nothing by itself: it opens the move's form, filled in, to read and send
    link = re.search(rf'<a class="button secondary link-duplicate" id="link-{world["twin"]}"\s+href="([^"]+)"', html)
    assert link, html[html.find('id="similar-cases"'):][:1500]
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Case.state).where(Case.number == world["base"])) is not S.closed
    unfolded = client.get(link.group(1).replace("&amp;", "&").split("#")[0]).get_data(as_text=True)
    form = unfolded.split('id="move-link_duplicate" open>')[1].split("</form>")[0]
    assert f'value="{world["twin"]}"' in form
    with db.session_scope(write=False) as s:
        version = s.scalar(select(Case.version).where(Case.number == world["base"]))
    data = {"csrf_token": CSRF.search(html).group(1), "version": version, "duplicate_of": world["twin"]}
    resp = client.post(f"/desk/cases/{world['base']}/moves/link_duplicate", data=data)
    assert resp.status_code == 303, resp.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        case = s.scalar(select(Case).where(Case.number == world["base"]))
        assert case.state is S.closed
        ev = case.events[-1]
        assert ev.kind is EventKind.linked and ev.data["duplicate_of"] == world["twin"]
        assert ev.public_text == f"您反映的问题已由案件 {world['twin']} 办理。"
        twin = s.scalar(select(Case).where(Case.number == world["twin"]))
        assert twin.events[-1].data.get("duplicate") == world["base"]
    page = client.get(f"/desk/cases/{world['base']}").get_data(as_text=True)
    assert f"重复件所属案件：{world['twin']}" in page or world["twin"] in page
    assert 'id="similar-cases"' not in page  # a closed case suggests nothing
    # the twin's page names the duplicate in its timeline
    assert world["base"] in client.get(f"/desk/cases/{world['twin']}").get_data(as_text=True)


def test_a_stale_version_or_another_units_number_is_refused(client, db, world, make_staff):
    login_as(client, db, make_staff("miit", Role.handler))
    html = client.get(f"/desk/cases/{world['base']}").get_data(as_text=True)
    token = CSRF.search(html).group(1)
    stale = client.post(f"/desk/cases/{world['base']}/moves/link_duplicate",
                        data={"csrf_token": token, "version": "999", "duplicate_of": world["twin"]})
    assert stale.status_code == 409
    with db.session_scope(write=False) as s:
        version = s.scalar(select(Case.version).where(Case.number == world["base"]))
    other = client.post(f"/desk/cases/{world['base']}/moves/link_duplicate",
                        data={"csrf_token": token, "version": version, "duplicate_of": world["elsewhere"]})
    assert other.status_code == 422
    assert 'id="m-link_duplicate-duplicate_of"' in other.get_data(as_text=True)
    with db.session_scope(write=False) as s:
        assert s.scalar(select(Case.state).where(Case.number == world["base"])) is S.pending_acceptance


def test_the_triage_page_suggests_waiting_cases_of_the_same_hint(client, db, services, backend, file_case,
                                                                   make_staff):
    a = file_case(association="unknown", association_hint="某某商会", title="商会强制入会收费")
    b = file_case(association="unknown", association_hint="某某商会", title="强制入会收费问题")
    reindex_all(db, services, backend)
    login_as(client, db, make_staff("triage", Role.triage_operator))
    html = client.get(f"/desk/cases/{a.case_number}").get_data(as_text=True)
    assert f'id="similar-{b.case_number}"' in html
    assert 'id="move-link_duplicate"' in html
    # neither has a unit yet, so no one-click link (a closed case needs a unit)
    assert f'id="link-{b.case_number}"' not in html


def test_the_public_form_shows_counts_of_open_matters_only(client, db, file_case):
    for i in range(5):
        file_case(title=f"秘密标题{i}号", description="只有内部才能看的描述文字" + LONG)
    for _ in range(4):
        file_case(category="illegal_fees", title="违规收费问题", description="乱收费" + LONG)
    html = client.get("/file/complaint", query_string={"association": ASSOC}).get_data(as_text=True)
    assert 'id="open-matters"' not in html  # all filed today: counted from tomorrow
    with db.session_scope() as s:
        for case_id, at in s.execute(select(Case.id, Case.submitted_at)).all():
            s.execute(update(Case).where(Case.id == case_id).values(submitted_at=at - timedelta(days=1)))
    html = client.get("/file/complaint", query_string={"association": ASSOC}).get_data(as_text=True)
    assert 'id="open-matters"' in html
    assert "该协会有 5 件「强制入会/强制摊派」事项正在办理中" in html
    assert "违规收费/涉企乱收费" not in html.split('id="open-matters"')[1].split("</div>")[0]
    assert "秘密标题" not in html and "只有内部" not in html
    with db.session_scope(write=False) as s:
        numbers = list(s.scalars(select(Case.number)))
    assert not any(n in html for n in numbers)
    # after choosing the association on the no-JavaScript form, too
    csrf, token, _ = open_form(client)
    page = client.post("/file/complaint", data=form_data(csrf, token, action="find", association_q="")).get_data(as_text=True)
    assert "该协会有 5 件" in page
    # no association chosen: nothing
    assert 'id="open-matters"' not in client.get("/file/complaint").get_data(as_text=True)


def test_the_public_form_says_nothing_below_three(client, db, file_case):
    for _ in range(2):
        file_case()
    html = client.get("/file/complaint", query_string={"association": ASSOC}).get_data(as_text=True)
    assert 'id="open-matters"' not in html


def test_the_box_marks_the_reporters_earlier_report_and_opens_the_merge_form(client, db, services, backend,
                                                                             file_case, make_staff):
    """办法 (2026) 第三十五条: the handler cannot see who reported, so the box says which similar
    report is by the same reporter (a proved phone number with the same keyed hash) and opens the
    合并处理 form filled in; another reporter's similar report gets neither."""
    report = dict(type="report", category="illegal_fees", title="协会以评比为名违规收取赞助费")
    earlier = file_case(**report, description="协会以评比为名向会员企业收取赞助费两万元" + LONG)
    others = file_case(**report, description="协会以评比为名向企业收取赞助费三万元" + LONG,
                       complainant={"name": "王五", "phone": "13912345678"})
    later = file_case(**report, description="协会又以评比为名收取赞助费并开具收据" + LONG)
    reindex_all(db, services, backend)
    handler = make_staff("miit", Role.handler)
    login_as(client, db, handler)
    from tests.web.test_desk import act

    act(db, services, handler, earlier.case_id, "accept")
    html = client.get(f"/desk/cases/{later.case_number}").get_data(as_text=True)
    assert f'id="similar-{earlier.case_number}"' in html and f'id="similar-{others.case_number}"' in html
    assert f'id="same-reporter-{earlier.case_number}"' in html and "同一举报人" in html
    # accepted after it was indexed: the box shows the state the database has, not the index's
    item = re.search(rf'<li id="similar-{earlier.case_number}">.*?</li>', html, re.S).group(0)
    assert 'class="state state-accepted"' in item
    assert f'id="same-reporter-{others.case_number}"' not in html and f'id="merge-{others.case_number}"' not in html
    link = re.search(rf'id="merge-{earlier.case_number}"\s+href="([^"]+)"', html).group(1).replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    opened = re.search(r'<details class="move move-merge_report" id="move-merge_report"[^>]*>', form).group(0)
    assert " open" in opened and f'value="{earlier.case_number}"' in form


def test_a_similar_case_of_another_type_is_named_but_not_offered_as_the_original(
        client, db, services, backend, file_case, make_staff):
    base = file_case(title="协会强制入会收取会费", description="协会要求必须强制入会并收取会费两万元" + LONG)
    suggestion = file_case(type="suggestion", category="suggestion_other", title="建议协会不得强制入会收取会费",
                           description="协会强制入会收取会费，建议规范" + LONG)
    reindex_all(db, services, backend)
    login_as(client, db, make_staff("miit", Role.handler))
    html = client.get(f"/desk/cases/{base.case_number}").get_data(as_text=True)
    assert f'id="similar-{suggestion.case_number}"' in html
    assert f'id="similar-type-{suggestion.case_number}">建议<' in html
    assert f'id="link-{suggestion.case_number}"' not in html


def test_the_box_shows_the_beginning_of_the_other_cases_description(client, db, world, make_staff):
    """The snippet under a similar case is the start of its description, the words marked."""
    login_as(client, db, make_staff("miit", Role.handler))
    html = client.get(f"/desk/cases/{world['base']}").get_data(as_text=True)
    item = re.search(rf'<li id="similar-{world["twin"]}">(.*?)</li>', html, re.S).group(1)
    snippet = re.search(r'<p class="snippet"[^>]*>(.*?)</p>', item, re.S).group(1)
    assert snippet.startswith("协会<mark>强制入会</mark>，<mark>收取会费</mark>三万元")
