"""What the public may see: counts below the threshold, rates on a small base and whole small
groups are suppressed; zero is shown; the open data carry the same rules."""
import csv
import io
from datetime import datetime, timezone

from casework.stats.disclosure import PUBLIC_MEASURES, PUBLIC_RATES, disclose, disclose_rows, display_order
from casework.stats.open_data import DATASETS, FIELDS, to_csv, to_json
from casework.stats.queries import Figures, Period


def figs(**counts):
    return Figures(counts)


def test_a_count_below_the_threshold_is_suppressed_and_zero_is_shown():
    g = disclose(figs(received=12, accepted=9, not_accepted=3, concluded=0), 5)
    assert not g.suppressed
    assert g.counts["received"].value == 12 and g.counts["accepted"].value == 9
    assert g.counts["not_accepted"].suppressed and g.counts["not_accepted"].value is None
    assert g.counts["concluded"].value == 0 and not g.counts["concluded"].suppressed
    assert g.counts["mediation_ended"].value == 0
    # exactly the threshold is shown
    assert disclose(figs(received=5, accepted=5), 5).counts["accepted"].value == 5
    assert disclose(figs(received=5, accepted=4), 5).counts["accepted"].suppressed


def test_a_rate_on_a_small_base_is_not_shown():
    g = disclose(figs(received=20, accepted=9, not_accepted=5, concluded=4, on_time=4, rated=6, satisfied=6), 5)
    assert g.rates["acceptance_rate"].value == 9 / 14 and g.rates["acceptance_rate"].base == 14
    assert g.rates["on_time_rate"].suppressed and g.rates["on_time_rate"].value is None  # 4 concluded
    assert g.rates["on_time_rate"].base is None  # the base is not told either
    assert g.rates["satisfaction_rate"].value == 1.0  # 6 of 6: none dissatisfied, and 0 is shown
    # no base at all: not applicable, not suppressed
    med = g.rates["mediation_success_rate"]
    assert med.value is None and not med.suppressed and not med.applicable
    assert g.suppressed_fields() == ["concluded", "on_time", "on_time_rate"]


def test_a_rate_does_not_give_back_a_count_the_page_hides():
    """9 accepted of 12 decisions, with "fewer than 5" not accepted, is 3 not accepted: a rate
    whose part, or the rest of its base, is a small count is suppressed with it."""
    g = disclose(figs(received=20, accepted=9, not_accepted=3, concluded=12, on_time=2, rated=6, satisfied=5), 5)
    assert g.counts["not_accepted"].suppressed and g.counts["on_time"].suppressed
    assert g.rates["acceptance_rate"].suppressed and g.rates["acceptance_rate"].base is None  # the rest is small
    assert g.rates["on_time_rate"].suppressed  # the part is small (2 of 12)
    assert g.rates["satisfaction_rate"].suppressed  # 5 of 6: one dissatisfied
    assert g.suppressed_fields() == ["not_accepted", "on_time", "acceptance_rate", "on_time_rate",
                                     "satisfaction_rate"]
    # the same figures with larger groups on both sides are shown
    g = disclose(figs(received=20, accepted=9, not_accepted=6, concluded=12, on_time=7), 5)
    assert g.rates["acceptance_rate"].value == 9 / 15 and g.rates["on_time_rate"].value == 7 / 12


def test_a_small_group_shows_nothing_not_even_zeros():
    g = disclose(figs(received=3, accepted=3, on_time=0, concluded=0), 5)
    assert g.suppressed
    assert all(c.suppressed for c in g.counts.values())
    assert all(r.value is None for r in g.rates.values())
    assert g.rates["acceptance_rate"].suppressed  # 3 decisions
    assert set(g.suppressed_fields()) == set(PUBLIC_MEASURES) | {"acceptance_rate"}
    assert all(v is None for v in g.values().values())


def test_an_empty_group_is_shown_as_zeros():
    g = disclose(figs(), 5)
    assert not g.suppressed and g.suppressed_fields() == []
    assert all(c.value == 0 for c in g.counts.values())
    assert all(r.value is None and not r.suppressed for r in g.rates.values())


def test_threshold_one_hides_nothing():
    g = disclose(figs(received=1, accepted=1, not_accepted=0), 1)
    assert not g.suppressed and g.counts["received"].value == 1 and g.rates["acceptance_rate"].value == 1.0
    assert disclose(figs(received=1), 0).counts["received"].value == 1  # a nonsense threshold means 1


def test_breakdown_rows_each_judged_and_small_ones_listed_by_name():
    rows = disclose_rows([(1, figs(received=9)), (2, figs(received=2)), (3, figs(received=4)),
                          (4, figs(received=30))], 5)
    assert [g.suppressed for _, g in rows] == [False, True, True, False]
    names = {1: "C", 2: "B", 3: "A", 4: "D"}
    # shown rows by size; hidden rows by name, so their order says nothing about their size
    assert [k for k, _ in display_order(rows, names.get)] == [4, 1, 3, 2]


def test_values_are_rounded_rates_and_counts_in_order():
    g = disclose(figs(received=17, accepted=17, not_accepted=0, concluded=16, on_time=10), 5)
    values = g.values()
    assert list(values) == [*PUBLIC_MEASURES, *PUBLIC_RATES]
    assert values["on_time_rate"] == round(10 / 16, 4) and values["acceptance_rate"] == 1.0


def test_csv_has_a_bom_a_fixed_header_and_empty_suppressed_cells():
    ds = DATASETS["monthly"]
    g = disclose(figs(received=8, accepted=3), 5)
    row = {"month": "2026-11", "case_type": "complaint", **g.values(), "figures_as_of": "2026-11-27T10:00:00+08:00",
           "suppressed": g.suppressed_fields()}
    raw = to_csv(ds, [row])
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == list(ds.columns) and table[0][-2:] == ["figures_as_of", "suppressed"]
    line = dict(zip(table[0], table[1]))
    assert line["received"] == "8" and line["accepted"] == "" and line["satisfaction_rate"] == ""
    assert line["suppressed"] == "accepted acceptance_rate"  # 3 decisions: a small base too


def test_json_keeps_the_column_order_and_describes_every_field():
    ds = DATASETS["units"]
    period = Period("2025-12", "2026-11")
    doc = to_json(ds, [], period=period, threshold=5, refreshed_at=None,
                  generated_at=datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc))
    assert doc["schema_version"] == 1 and doc["period"] == {"start": "2025-12", "end": "2026-11"}
    assert doc["generated_at"] == "2026-11-27T10:00:00+08:00" and doc["figures_as_of"] is None
    assert [f["name"] for f in doc["fields"]] == list(ds.columns)
    assert all(f["zh"] and f["en"] and f["type"] for f in doc["fields"])


def test_every_column_is_in_the_dictionary_and_snake_case():
    for ds in DATASETS.values():
        assert len(set(ds.columns)) == len(ds.columns)
        for column in ds.columns:
            assert column in FIELDS and column.replace("_", "").isalpha() and column == column.lower()
