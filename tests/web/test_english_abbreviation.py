"""A stranger typed "caam" for 中国汽车工业协会 (China Association of Automobile Manufacturers) and
found nothing. An association is now also known by the initials of its English name's words
(casework.registry.lookup.english_abbreviations): the public type-ahead (JSON and the form's
查找 without JavaScript), the statistics' finder and the desk search find it by them."""
import html as htmllib

import pytest

from casework.accounts.models import Role
from casework.registry import models as m
from casework.registry.demo import sample_credit_code
from casework.registry.lookup import english_abbreviations, index_terms, search_associations
from casework.search.sync import reindex_all
from tests.web.test_admin_routing import login_as
from tests.web.test_intake_lookup import find, results
from tests.web.test_search_web import either_backend, page  # noqa: F401 (fixture)

CAAM = sample_credit_code("51100000500099002")  # 中国汽车工业协会 in the demo registry


@pytest.mark.parametrize("name_en, expected", [
    ("China Association of Automobile Manufacturers", ("caam", "caoam")),
    ("China Iron and Steel Association", ("cisa", "ciasa")),
    ("China Federation of Logistics & Purchasing", ("cflp", "cfolp")),
    ("China Composites Industry Association", ("ccia",)),
    ("China Chamber of International Commerce", ("ccic", "ccoic")),  # CCOIC keeps its "of"
    ("Steel", ()),  # one word is no abbreviation
    ("", ()),
    (None, ()),
])
def test_the_english_abbreviation_is_the_initials_of_the_english_name(name_en, expected):
    assert english_abbreviations(name_en) == expected


def test_index_terms_add_the_english_abbreviation_after_the_pinyin():
    a = m.Association(name="中国汽车工业协会", abbreviation="中汽协", name_en="China Association of Automobile Manufacturers")
    assert index_terms(a) == "zgqcgyxh zqx caam caoam"


def test_caam_finds_the_association_in_the_registry(session):
    for q in ("caam", "CAAM", "Caam"):
        assert [a.credit_code for a in search_associations(session, q)][:1] == [CAAM], q


def test_the_public_type_ahead_finds_caam(client):
    items = client.get("/api/v1/associations?q=caam").get_json()["items"]
    assert [i["credit_code"] for i in items][:1] == [CAAM] and items[0]["name_zh"] == "中国汽车工业协会"
    # the filing form's 查找, without JavaScript: the one match is chosen
    assert "中国汽车工业协会" in results(find(client, "caam"))


def test_the_statistics_finder_takes_caam(client, db, file_case):
    from datetime import datetime, timezone

    from casework.stats.rollup import refresh

    file_case(association=CAAM)
    refresh(db, lambda: datetime.now(timezone.utc))
    html = htmllib.unescape(client.get("/stats", query_string={"q": "caam"}).get_data(as_text=True))
    assert "中国汽车工业协会" in html[html.index('id="associations"'):]


def test_the_desk_search_finds_the_cases_of_caam(client, db, services, either_backend, file_case, make_staff):
    car = file_case(association=CAAM, title="协会摊派会刊费用", description="协会要求我公司订阅会刊并缴纳费用，请依法处理。")
    other = file_case()  # 中国复合材料工业协会's, at the same unit
    reindex_all(db, services, either_backend)
    login_as(client, db, make_staff("miit", Role.handler))
    for q in ("caam", "CAAM"):
        status, html = page(client, q=q)
        assert status == 200 and car.case_number in html and other.case_number not in html, q
    _, html = page(client, q="会刊 NOT caam")
    assert car.case_number not in html
