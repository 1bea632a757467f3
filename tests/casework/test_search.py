"""Full-text search: Chinese segmentation, English words, permission filtering inside the
query, no identity in the index, escaped highlighting, filters, and indexing that survives a
crash and a rebuild (casework.search)."""
import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.accounts.models import Role
from casework.cases.models import Case
from casework.registry.models import Unit
from casework.search import SearchQuery
from casework.search import sync
from casework.search.documents import case_doc
from casework.search.whoosh_backend import WhooshBackend
from casework.workflow import machine

LONG = "，请协会依法处理并答复。"  # descriptions need at least 10 characters
# the PostgreSQL backend runs in the suite's PostgreSQL pass (`make test` runs it in CI)
ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def _postgres_backend(db, root):
    from casework.search.pg_backend import PostgresBackend

    if db.engine.dialect.name != "postgresql":
        # `make test` runs the suite again on PostgreSQL (TEST_DATABASE_URL), where this runs
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")  # in CI these are deselected on SQLite and run in the PostgreSQL pass
    backend = PostgresBackend(db, root)
    backend.clear()
    return backend


# the PostgreSQL backend writes its rows through connections of its own: those tests commit
@pytest.fixture(params=["whoosh", pytest.param("postgres", marks=pytest.mark.commits)] if ON_POSTGRES else ["whoosh"])
def backend(request, tmp_path):
    """Every test taking ``backend`` runs against both backends."""
    if request.param == "whoosh":
        yield WhooshBackend(tmp_path / "search")
        return
    backend = _postgres_backend(request.getfixturevalue("db"), tmp_path / "search")
    yield backend
    backend.clear()


@pytest.fixture
def whoosh(tmp_path):
    """For what only the Whoosh backend has (index directories, its write lock)."""
    return WhooshBackend(tmp_path / "search")


def is_whoosh(backend):
    return isinstance(backend, WhooshBackend)


def stored_bytes(db, backend) -> bytes:
    """Everything the backend stored: the index files, or the search_document rows."""
    if is_whoosh(backend):
        return b"".join(p.read_bytes() for p in backend.root.rglob("*") if p.is_file())
    from sqlalchemy import text

    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT s::text FROM search_document s")).scalars()
        return "\n".join(rows).encode()


def index_all(db, services, backend):
    return sync.reindex_all(db, services, backend)


def numbers(result):
    return {h.number for h in result.hits}


def find(backend, text="", **kw):
    kw.setdefault("unit_ids", None)
    return backend.search(SearchQuery(text=text, **kw))


def unit_id(db, code):
    with db.session_scope(write=False) as s:
        return s.scalar(select(Unit.id).where(Unit.code == code))


# -- Chinese and English words -------------------------------------------------------------

def test_chinese_segmentation_decides_what_matches(db, services, backend, file_case):
    fee = file_case(title="协会乱收钱问题", description="协会收取会费两万元，否则不予办理证明。")
    forced = file_case(title="被要求入会的问题", description="协会要求必须强制入会" + LONG)
    charge = file_case(title="培训乱收钱问题", description="协会违规收费三千元用于培训" + LONG)
    index_all(db, services, backend)

    assert numbers(find(backend, "会费")) == {fee.case_number}
    assert numbers(find(backend, "强制入会")) == {forced.case_number}
    # 收费 is one word to jieba: it finds "违规收费" but NOT "收取会费" (收取 + 会费); users who
    # mean membership fees must type 会费 (documented behaviour, see RECIPES.md)
    assert numbers(find(backend, "收费")) == {charge.case_number}
    # two words: both must be present (AND), in any field
    assert numbers(find(backend, "收取 会费")) == {fee.case_number}
    assert numbers(find(backend, "会费 培训")) == set()
    # the association name is searchable too (every filed case names the same association)
    assert find(backend, "复合材料").total == 3


def test_english_words_are_stemmed_and_found(db, services, backend, file_case):
    en = file_case(title="Membership fees charged twice",
                   description="The association charged our company membership fees twice this year.")
    file_case(title="其他问题说明", description="与英文无关的中文投诉内容" + LONG)
    index_all(db, services, backend)
    for text in ("fee", "Fees", "FEE", "charging", "membership fee"):
        assert numbers(find(backend, text)) == {en.case_number}, text
    assert find(backend, "refund").total == 0


# -- permissions -----------------------------------------------------------------------------

def test_a_case_of_another_unit_is_neither_returned_nor_counted(db, services, backend, file_case):
    ours = file_case()  # routed to 工业和信息化部 (miit)
    theirs = file_case(category="finance_assets")  # routed to 民政部 (mca)
    triage = file_case(association="unknown", association_hint="某某商会")  # waits for routing
    index_all(db, services, backend)
    miit, mca = unit_id(db, "miit"), unit_id(db, "mca")

    handler = find(backend, "会费", unit_ids=frozenset({miit}))
    assert numbers(handler) == {ours.case_number} and handler.total == 1
    assert numbers(find(backend, "会费", unit_ids=frozenset({mca}))) == {theirs.case_number}
    # asking for another unit through the filter does not get around the permission
    assert find(backend, "会费", unit_ids=frozenset({miit}), unit=mca).total == 0
    # nothing allowed: nothing found, not even counted
    assert find(backend, "会费", unit_ids=frozenset()).total == 0
    # a triage operator sees the cases waiting for routing
    assert numbers(find(backend, "会费", unit_ids=frozenset(), include_triage=True)) == {triage.case_number}
    # a supervisor sees all
    assert find(backend, "会费").total == 3
    # an empty query lists what the user may see, newest first
    listed = find(backend, "", unit_ids=frozenset({miit}), include_triage=True)
    assert [h.number for h in listed.hits] == [triage.case_number, ours.case_number]


def test_a_reporters_identity_is_never_in_the_index(db, services, backend, file_case):
    name, phone = "欧阳锋", "13912345678"
    file_case(type="report", complainant={"name": name, "phone": phone})
    file_case(complainant={"name": name, "phone": phone})
    index_all(db, services, backend)
    assert backend.count() == 2
    assert find(backend, name).total == 0 and find(backend, phone).total == 0
    assert find(backend, "欧阳").total == 0
    blob = stored_bytes(db, backend)
    assert "两万元".encode() in blob  # the case text is there in plain bytes: the grep is meaningful
    for secret in (name, phone, "欧阳"):
        assert secret.encode() not in blob, secret


def test_internal_notes_are_not_indexed_but_public_replies_are(db, services, backend, file_case, make_staff):
    receipt = file_case()
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        machine.perform(s, services, handler, s.get(Case, receipt.case_id), "accept",
                        public_text="您的投诉已受理，正在核实。")
    with db.session_scope() as s:
        machine.perform(s, services, handler, s.get(Case, receipt.case_id), "note",
                        internal_text="机密备注：已联系纪检组")
    index_all(db, services, backend)
    assert numbers(find(backend, "核实")) == {receipt.case_number}
    assert find(backend, "纪检组").total == 0


# -- highlighting ----------------------------------------------------------------------------

def test_highlighting_escapes_case_text_and_marks_matched_words(db, services, backend, file_case):
    file_case(title="<script>alert(1)</script>会费", description='协会收取会费 <b onclick="x">两万元</b>' + LONG)
    index_all(db, services, backend)
    hit = find(backend, "会费").hits[0]
    assert "<mark>会费</mark>" in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<mark>会费</mark>" in hit.snippet_html and "&lt;b onclick" in hit.snippet_html
    for html in (hit.title_html, hit.snippet_html):
        bare = str(html).replace("<mark>", "").replace("</mark>", "")
        assert "<" not in bare and ">" not in bare
    # no words: the plain escaped text, no marks
    plain = find(backend, "").hits[0]
    assert "<mark>" not in plain.title_html and "&lt;script&gt;" in plain.title_html


# -- filters and paging ----------------------------------------------------------------------

def test_filters_and_pages(db, services, backend, file_case):
    complaint = file_case()
    report = file_case(type="report")
    other = file_case(category="finance_assets")
    index_all(db, services, backend)
    miit = unit_id(db, "miit")
    assert numbers(find(backend, "会费", type="report")) == {report.case_number}
    assert numbers(find(backend, "会费", category="finance_assets")) == {other.case_number}
    assert numbers(find(backend, "会费", unit=miit)) == {complaint.case_number, report.case_number}
    assert find(backend, "会费", state="pending_acceptance").total == 3
    assert find(backend, "会费", state="closed").total == 0
    now = services.clock()
    assert find(backend, "会费", date_from=now - timedelta(hours=1)).total == 3
    assert find(backend, "会费", date_to=now - timedelta(days=1)).total == 0
    assert find(backend, "会费", date_from=now + timedelta(days=1)).total == 0
    page1 = find(backend, "会费", per_page=2, page=1)
    page2 = find(backend, "会费", per_page=2, page=2)
    assert page1.total == page2.total == 3 and page1.pages == 2
    assert len(page1.hits) == 2 and len(page2.hits) == 1
    assert numbers(page1) | numbers(page2) == {complaint.case_number, report.case_number, other.case_number}


# -- indexing: rebuild and incremental -------------------------------------------------------

def test_reindex_all_builds_aside_and_swaps_atomically(db, services, whoosh, file_case):
    backend = whoosh
    cases = [file_case() for _ in range(3)]
    stale = case_doc_like(db, cases[0].case_id, case_id=999_999, number="TS-GONE")
    backend.index_cases([stale])
    old_dir = backend.link.resolve()
    seen_during = []

    def progress(n):  # the rebuild is writing elsewhere: search still answers from the old index
        seen_during.append(numbers(find(backend, "会费")))

    assert sync.reindex_all(db, services, backend, progress) == 3
    assert seen_during == [{"TS-GONE"}]
    assert backend.link.is_symlink() and backend.link.resolve() != old_dir
    # the index now matches the database exactly
    assert backend.count() == 3
    assert numbers(find(backend, "会费")) == {c.case_number for c in cases}
    # the watermark went back to before the rebuild so changes made meanwhile are redone
    assert sync.read_watermark(backend) <= services.clock()


def case_doc_like(db, source_id, **changes):
    from dataclasses import replace

    with db.session_scope(write=False) as s:
        return replace(case_doc(s.get(Case, source_id)), **changes)


def test_reindex_changed_after_a_crash_doubles_nothing(db, services, backend, file_case, make_staff):
    first = [file_case() for _ in range(3)]
    old = sync.EPOCH
    new = sync.reindex_changed(db, services, backend, old)
    assert backend.count() == 3
    # the worker died before writing its watermark: the batch is simply redone
    sync.reindex_changed(db, services, backend, old)
    assert backend.count() == 3
    # a move made afterwards is picked up from the new watermark, replacing the document
    handler = make_staff("miit", Role.handler)
    with db.session_scope() as s:
        machine.perform(s, services, handler, s.get(Case, first[0].case_id), "accept",
                        public_text="已受理，正在核查退还会费事宜。")
    sync.reindex_changed(db, services, backend, new)
    assert backend.count() == 3
    hit = find(backend, "核查").hits
    assert [h.number for h in hit] == [first[0].case_number] and hit[0].state == "accepted"


def test_sync_once_keeps_its_watermark_only_after_the_index_committed(db, services, backend, file_case,
                                                                     monkeypatch):
    for _ in range(4):
        file_case()
    monkeypatch.setattr(sync, "BATCH", 2)
    calls = []
    real = backend.index_cases

    def dies_on_second_batch(docs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(docs)

    monkeypatch.setattr(backend, "index_cases", dies_on_second_batch)
    with pytest.raises(RuntimeError):
        sync.sync_once(db, services, backend)
    assert sync.read_watermark(backend) == sync.EPOCH and backend.count() == 2
    monkeypatch.setattr(backend, "index_cases", real)
    assert sync.sync_once(db, services, backend) == 2
    assert backend.count() == 4 and sync.read_watermark(backend) > sync.EPOCH
    with db.session_scope(write=False) as s:
        in_db = set(s.scalars(select(Case.number)))
    assert numbers(find(backend, "", per_page=100)) == in_db
    # nothing changed: another run indexes nothing new
    assert sync.sync_once(db, services, backend) == 0 and backend.count() == 4


def test_delete_and_clear(db, services, backend, file_case):
    a, b = file_case(), file_case()
    index_all(db, services, backend)
    backend.delete([a.case_id])
    assert numbers(find(backend, "会费")) == {b.case_number}
    backend.clear()
    assert backend.count() == 0 and find(backend, "会费").total == 0


def test_the_worker_task_indexes_from_the_watermark(db, services, settings, file_case):
    from celery import Celery

    from casework.search import default_backend
    from workers import search_tasks

    app = Celery("search-test")
    search_tasks.register(app, lambda: (db, services))
    backend = default_backend(settings)
    backend.clear()
    sync.write_watermark(backend, sync.EPOCH)
    a = file_case()
    assert app.tasks["changtong.index_search"]() == {"indexed_new": 1}
    assert numbers(find(backend, "会费")) == {a.case_number}
    b = file_case()
    app.tasks["changtong.index_search"]()
    assert numbers(find(backend, "会费")) == {a.case_number, b.case_number} and backend.count() == 2
    backend.clear()


def test_a_second_writer_waits_for_the_lock_instead_of_corrupting(db, services, whoosh, file_case):
    import threading
    import time

    from whoosh import index as whoosh_index

    backend = whoosh
    a, b = file_case(), file_case()
    with db.session_scope(write=False) as s:
        docs = [case_doc(s.get(Case, r.case_id)) for r in (a, b)]
    backend.index_cases(docs[:1])
    other = whoosh_index.open_dir(str(backend.link)).writer()  # another process holds the lock
    done = threading.Event()
    worker = threading.Thread(target=lambda: (backend.index_cases(docs[1:]), done.set()))
    worker.start()
    time.sleep(0.4)
    assert not done.is_set()  # waiting, not writing alongside
    other.commit()
    worker.join(10)
    assert done.is_set() and backend.count() == 2


def test_a_rebuild_that_dies_leaves_the_live_index_answering(db, services, backend, file_case):
    cases = [file_case() for _ in range(2)]
    sync.reindex_all(db, services, backend)
    live = backend.link.resolve() if is_whoosh(backend) else None

    def killed(n):
        raise KeyboardInterrupt("rebuild killed")

    with pytest.raises(KeyboardInterrupt):
        sync.reindex_all(db, services, backend, killed)
    assert backend.count() == 2
    assert numbers(find(backend, "会费")) == {c.case_number for c in cases}
    if is_whoosh(backend):
        assert backend.link.resolve() == live
        assert not list(backend.root.glob("building-*"))
    # and the next rebuild matches the database
    file_case()
    assert sync.reindex_all(db, services, backend) == 3 and backend.count() == 3


def test_query_syntax_is_words_only(db, services, backend, file_case):
    ours = file_case()
    file_case(category="finance_assets")
    index_all(db, services, backend)
    miit = unit_id(db, "miit")
    mine = dict(unit_ids=frozenset({miit}))
    # field syntax is not a way around the permission filter, and odd input does not fail
    for text in (f"unit:u{miit + 1}", "case_id:1", "会费*", "会费 OR", '"强制入会', "(((", "title:会费"):
        result = find(backend, text, **mine)
        assert numbers(result) <= {ours.case_number}, text
    assert numbers(find(backend, "会费 NOT 两万元", **mine)) == set()
    assert numbers(find(backend, "会费 OR 不存在的词", **mine)) == {ours.case_number}


# -- the PostgreSQL backend ------------------------------------------------------------------

@pytest.fixture
def pg_backend(db, tmp_path):
    backend = _postgres_backend(db, tmp_path / "search")
    yield backend
    backend.clear()


@pytest.mark.postgres
@pytest.mark.commits
def test_postgres_reindex_all_rewrites_in_place_and_search_keeps_answering(db, services, pg_backend, file_case,
                                                                           monkeypatch):
    backend = pg_backend
    cases = [file_case() for _ in range(3)]
    stale = case_doc_like(db, cases[0].case_id, number="TS-OLD", title="旧的标题会费")
    backend.index_cases([stale])
    monkeypatch.setattr(sync, "BATCH", 2)
    seen_during = []

    def progress(n):  # batch by batch: every search in between answers
        seen_during.append(find(backend, "会费").total)

    assert sync.reindex_all(db, services, backend, progress) == 3
    assert seen_during == [2, 3]  # the first batch replaced TS-OLD and added one; never empty
    assert backend.count() == 3
    assert numbers(find(backend, "会费")) == {c.case_number for c in cases}
    assert sync.read_watermark(backend) <= services.clock()


@pytest.mark.postgres
@pytest.mark.commits
def test_postgres_rows_go_with_their_case(db, services, pg_backend, file_case):
    from sqlalchemy import text

    a, b = file_case(), file_case()
    index_all(db, services, pg_backend)
    with db.engine.begin() as conn:  # what still points at the case without a cascade goes first
        for table in ("event", "attachment", "intake_receipt"):
            conn.execute(text(f'DELETE FROM "{table}" WHERE case_id = :id'), {"id": a.case_id})
        conn.execute(text('DELETE FROM "case" WHERE id = :id'), {"id": a.case_id})
    assert pg_backend.count() == 1 and numbers(find(pg_backend, "会费")) == {b.case_number}


@pytest.mark.postgres
@pytest.mark.commits
def test_postgres_ranks_title_matches_first_and_takes_odd_input(db, services, pg_backend, file_case):
    in_title = file_case(title="强制入会的投诉材料", description="详细情况见附件，请协会依法处理并答复。")
    in_text = file_case(title="其他问题说明材料", description="协会要求我们强制入会" + LONG)
    index_all(db, services, pg_backend)
    hits = find(pg_backend, "强制入会").hits
    assert [h.number for h in hits] == [in_title.case_number, in_text.case_number]
    assert hits[0].score > hits[1].score
    for text in ("'", "\\", "a'b", "&|!", "<->", ":*", "'会费':*A", "NOT", "OR OR", '""'):
        find(pg_backend, text)  # no error: the tsquery is built from lexemes, never from input


def test_the_backend_is_chosen_by_a_setting(db, settings):
    from dataclasses import replace

    from casework.search import make_backend

    assert is_whoosh(make_backend(settings, db))
    with pytest.raises(ValueError):
        make_backend(replace(settings, search_backend="nonsense"), db)
    pg = replace(settings, search_backend="postgres")
    if db.engine.dialect.name == "postgresql":
        from casework.search.pg_backend import PostgresBackend

        assert isinstance(make_backend(pg, db), PostgresBackend)
    else:
        with pytest.raises(RuntimeError):  # on SQLite the table exists but the backend refuses
            make_backend(pg, db)


def test_counting_stops_at_the_cap_and_says_there_are_more(db, services, file_case, backend, monkeypatch):
    import casework.search.pg_backend as pg
    import casework.search.whoosh_backend as wh

    for module in (wh, pg):
        monkeypatch.setattr(module, "COUNT_CAP", 3)
    for _ in range(5):
        file_case(description="协会强制企业缴纳会费" + LONG)
    index_all(db, services, backend)
    result = find(backend, "会费")
    assert (result.total, result.more, len(result.hits)) == (3, True, 5)
    assert find(backend, "会费", per_page=2, page=3).hits  # the pages go on past the count
    few = find(backend, "会费", unit_ids=frozenset({-1}))
    assert (few.total, few.more) == (0, False)  # counted within what the user may see


def test_an_index_of_an_earlier_version_is_replaced_and_refilled(db, services, file_case, whoosh):
    from whoosh import index
    from whoosh.fields import ID, TEXT, Schema

    file_case(description="协会强制企业缴纳会费" + LONG)
    old = whoosh.root / "index-old"
    old.mkdir(parents=True)
    index.create_in(str(old), Schema(case_id=ID(stored=True, unique=True), title=TEXT(stored=True)))
    os.symlink(old.name, whoosh.link)
    sync.write_watermark(whoosh, sync.EPOCH + timedelta(days=365 * 60))  # "everything indexed"
    assert find(whoosh, "会费").total == 0  # an empty index of the current kind, not an error
    assert sync.read_watermark(whoosh) == sync.EPOCH
    sync.sync_once(db, services, whoosh)  # the worker's next run fills it
    assert find(whoosh, "会费").total == 1


# -- one document per case (issue 16) --------------------------------------------------------

def test_a_case_is_one_document_however_often_the_worker_indexes_it(db, services, backend, file_case,
                                                                     make_staff):
    """Each worker run re-indexes the changed cases; searches from threads that keep their
    searcher between runs (as web threads do) must still see each case once. Whoosh's
    Searcher.refresh() brought back the replaced versions: 3 hits, then 4, 5, … 13."""
    from concurrent.futures import ThreadPoolExecutor

    cases = [file_case() for _ in range(3)]
    handler = make_staff("miit", Role.handler)
    expected = {c.case_number for c in cases}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for run in range(6):
            if run == 2:
                with db.session_scope() as s:
                    machine.perform(s, services, handler, s.get(Case, cases[0].case_id), "accept",
                                    public_text="已受理，正在核查退还会费事宜。")
            sync.reindex_changed(db, services, backend, sync.EPOCH)  # every case changed again
            assert backend.count() == 3
            for result in pool.map(lambda _: find(backend, "会费", per_page=50), range(8)):
                ids = [h.case_id for h in result.hits]
                assert len(ids) == len(set(ids)) == 3 and result.total == 3, (run, ids, result.total)
                assert numbers(result) == expected
    hits = find(backend, "核查").hits
    assert [(h.number, h.state) for h in hits] == [(cases[0].case_number, "accepted")]


def test_a_case_number_finds_that_case(db, services, backend, file_case):
    wanted, other = file_case(), file_case()
    index_all(db, services, backend)
    number = wanted.case_number
    for typed in (number, number.lower(), f" {number[:2]} {number[2:10]}-{number[10:]} "):
        result = find(backend, typed)
        assert numbers(result) == {number} and result.total == 1, typed
    assert numbers(find(backend, other.case_number)) == {other.case_number}
    # within what the user may see, as any search
    assert find(backend, number, unit_ids=frozenset({-1})).total == 0
    # a well-formed number of no case finds nothing
    from stdnum import luhn

    body = "1999010100000"
    assert find(backend, "TS" + body + luhn.calc_check_digit(body)).total == 0


def test_a_rebuild_removes_the_previous_index_and_other_processes_search_on(db, services, whoosh, file_case):
    """Only the live index stays on the disk after a rebuild; a web process that searched the
    previous one (its own backend object) answers from the new one at its next search."""
    cases = [file_case() for _ in range(2)]
    index_all(db, services, whoosh)
    web = WhooshBackend(whoosh.root)  # another process's view of the same directory
    assert numbers(find(web, "会费")) == {c.case_number for c in cases}
    previous = whoosh.link.resolve()
    more = file_case()
    index_all(db, services, whoosh)
    assert not previous.exists()
    assert [p.name for p in whoosh.root.glob("index-*")] == [whoosh.link.resolve().name]
    assert numbers(find(web, "会费")) == {c.case_number for c in (*cases, more)}
