"""The similar-cases box showed the best-matching fragment of the other case, sometimes of a
reply rather than the complaint, sometimes a line from the middle. It now shows the beginning of
the other case's description, escaped, with the words it was found by marked where they stand in
it (casework.search.similar.similar_cases); on both search backends."""
from casework.accounts.models import Role
from casework.cases.models import Case
from casework.search import sync
from casework.search.similar import similar_cases, unit_keys
from casework.workflow import machine
from tests.casework.test_search import backend  # noqa: F401 (both backends: Whoosh, and PostgreSQL there)

LONG = "，请协会依法处理并答复。"
PREAMBLE = "我公司是一家从事汽车零部件生产的中小企业，成立于二〇一五年，员工约八十人，主要为整车厂配套，一直依法经营、按时纳税，此前从未与任何协会发生过纠纷。"
AFTER = "我公司多次与协会沟通，协会均以内部规定为由拒绝说明依据，也未出具任何书面材料，给企业经营造成很大困扰，恳请主管部门调查核实"


def hits_for(db, services, backend, base_id, handler):
    with db.session_scope(write=False) as s:
        keys = unit_keys(handler.unit_ids(Role.handler, Role.unit_lead), False)
        return {h.number: h for h in similar_cases(backend, s.get(Case, base_id), allowed_unit_keys=keys,
                                                       now=services.clock())}


def test_the_box_shows_the_beginning_of_the_description_with_the_matched_words_marked(
        db, services, backend, file_case, make_staff):
    base = file_case(title="协会强制入会收取会费", description="协会要求我公司必须强制入会并收取会费两万元" + LONG)
    # the words stand late in this description: the fragment began with "…" in its middle
    late = file_case(title="强制入会收取会费", description=PREAMBLE + "今年协会强制入会，收取会费<b>三万元</b>。" + AFTER + LONG)
    early = file_case(title="强制入会收取会费", description="协会强制入会，收取会费三万元" + LONG)
    handler = make_staff("miit", Role.handler)
    sync.reindex_all(db, services, backend)
    hits = hits_for(db, services, backend, base.case_id, handler)

    snippet = str(hits[late.case_number].snippet_html)
    assert snippet.startswith(PREAMBLE) and snippet.endswith("…")  # its beginning, cut where it goes on
    assert "今年协会<mark>强制入会</mark>" in snippet  # the words it was found by, where they stand
    assert "&lt;b&gt;三万元&lt;/b&gt;" in snippet and "<b>" not in snippet  # escaped, as every hit's text
    snippet = str(hits[early.case_number].snippet_html)
    assert snippet.startswith("协会<mark>强制入会</mark>") and "<mark>收取会费</mark>三万元" in snippet


def test_a_case_found_by_its_reply_shows_its_description_not_the_reply(db, services, backend, file_case, make_staff):
    base = file_case(title="协会强制入会收取会费", description="协会要求我公司必须强制入会并收取会费两万元" + LONG)
    replied = file_case(title="强制入会收取会费", description="协会的做法不合理，请依法核查处理并答复我公司。")
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        machine.perform(s, services, handler, s.get(Case, replied.case_id), "accept",
                        public_text="经核查，协会强制入会并收取会费的问题属实，已责令改正。")
    sync.reindex_all(db, services, backend)
    hits = hits_for(db, services, backend, base.case_id, handler)
    snippet = str(hits[replied.case_number].snippet_html)
    assert snippet == "协会的做法不合理，请依法核查处理并答复我公司。"  # the complaint, no word of it matched
    assert "经核查" not in snippet
