"""What the public may see: counts below the threshold, rates on a small base and whole small
groups are suppressed; zero is shown; a withheld count cannot be worked out from a total and the
counts shown beside it (complementary suppression); the open data carry the same rules."""
import csv
import io
import random
from datetime import datetime, timezone

from casework.stats.disclosure import PUBLIC_MEASURES, PUBLIC_RATES, Table, disclose, display_order
from casework.stats.queries import RATE_PARTS
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
    rows = [(k, disclose(f, 5)) for k, f in [(1, figs(received=9)), (2, figs(received=2)), (3, figs(received=4)),
                                              (4, figs(received=30))]]
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


def table_of(total, parts, threshold=5):
    t = Table(threshold)
    t.add("total", total)
    for key, f in parts:
        t.add(key, f)
    t.add_sum("total", [k for k, _ in parts])
    return t


def test_a_breakdowns_one_withheld_row_is_not_left_to_be_worked_out_from_the_total():
    """Two units, 6 and 2 of 8 cases: "fewer than 5" beside 6 and a total of 8 gave back the 2.
    Now the 6 is withheld too, and every figure of its row, as a small row's are."""
    t = table_of(figs(received=8, accepted=4), [("miit", figs(received=6, accepted=4)), ("sc", figs(received=2))])
    assert t.group("total").counts["received"].value == 8
    assert t.group("miit").suppressed and t.group("sc").suppressed
    assert t.group("miit").counts["accepted"].suppressed


def test_the_smallest_row_beside_it_is_withheld_and_the_rest_shown():
    t = table_of(figs(received=32, accepted=20, not_accepted=12),
                 [("a", figs(received=20, accepted=12, not_accepted=8)), ("b", figs(received=3, accepted=1, not_accepted=2)),
                  ("c", figs(received=9, accepted=7, not_accepted=2))])
    a = t.group("a")
    assert not a.suppressed and a.counts["received"].value == 20 and a.counts["accepted"].value == 12
    assert t.group("b").suppressed and t.group("c").suppressed  # 3 alone could be worked out: 9 goes with it
    # not accepted: 8 of a is what is left to withhold beside the two small ones (2 + 2 < 5)
    assert a.counts["not_accepted"].suppressed
    assert a.rates["acceptance_rate"].suppressed  # 12 of 20 would give back the 8


def test_two_withheld_counts_that_add_up_to_less_than_the_threshold_take_a_third():
    t = table_of(figs(received=30, accepted=30), [("a", figs(received=12, accepted=12)), ("b", figs(received=16, accepted=16)),
                                                   ("c", figs(received=1, accepted=1)), ("d", figs(received=1, accepted=1))])
    assert [t.group(k).suppressed for k in "abcd"] == [True, False, True, True]  # 1 + 1 would be 2: both ones


def test_a_withheld_total_is_never_the_sum_of_parts_all_shown():
    """A unit withheld in the units' breakdown has months on its own page: if all of them were
    shown, they would add up to it. One of them is withheld too."""
    t = Table(5)
    t.add("all", figs(received=14))
    for key, n in (("x", 10), ("y", 2), ("z", 2), ("x-jan", 5), ("x-feb", 5), ("x-mar", 0)):
        t.add(key, figs(received=n))
    t.add_sum("all", ["x", "y", "z"])
    t.add_sum("x", ["x-jan", "x-feb", "x-mar"])
    assert t.group("x").suppressed  # 2 + 2 < 5: x goes with them
    assert [t.group(k).suppressed for k in ("x-jan", "x-feb")] == [True, False]  # the first of the smallest
    assert t.group("x-mar").counts["received"].value == 0  # a zero is still shown as 0


def test_a_total_with_nothing_left_beside_it_is_withheld_itself():
    """A unit withheld beside a small one had cases in January only: its January is the
    month's whole total, so January's total is withheld, and February with it in the period's."""
    t = Table(5)
    t.add("all", figs(received=20))
    for key, n in (("x", 6), ("y", 2), ("w", 12), ("jan", 6), ("feb", 14), ("x-jan", 6)):
        t.add(key, figs(received=n))
    t.add_sum("all", ["x", "y", "w"])
    t.add_sum("all", ["jan", "feb"])
    t.add_sum("x", ["x-jan"])
    t.add_sum("jan", ["x-jan"])
    assert t.group("x").suppressed and t.group("x-jan").suppressed and not t.group("w").suppressed
    assert t.group("jan").suppressed and t.group("feb").suppressed
    assert t.group("all").counts["received"].value == 20


def test_every_sum_holds_on_random_tables():
    """Random tables of units by months (the period's total, each unit's and each month's sums):
    after settling, no shown count is small, no shown rate is made of a withheld count, and in
    every sum whose total is shown the withheld parts are none, or two or more adding up to at
    least the threshold (so none can be worked out); a withheld total has a withheld part."""
    rng = random.Random(20261207)
    for _ in range(200):
        n = rng.choice((2, 3, 5, 10))
        units, months = rng.randint(1, 6), rng.randint(1, 4)
        cells = {}
        for u in range(units):
            for m in range(months):
                received = rng.choice((0, 0, 1, 2, 3, 4, 6, 9, 15, 40))
                accepted = rng.randint(0, received)
                cells[(u, m)] = figs(received=received, accepted=accepted, not_accepted=received - accepted)

        def total(keys):
            return figs(**{m: sum(cells[k][m] for k in keys) for m in PUBLIC_MEASURES})

        t = Table(n)
        t.add("all", total(list(cells)))
        sums = []
        for u in range(units):
            t.add(("u", u), total([(u, m) for m in range(months)]))
        for m in range(months):
            t.add(("m", m), total([(u, m) for u in range(units)]))
        for k, f in cells.items():
            t.add(k, f)
        sums.append(("all", [("u", u) for u in range(units)]))
        sums.append(("all", [("m", m) for m in range(months)]))
        sums += [(("u", u), [(u, m) for m in range(months)]) for u in range(units)]
        sums += [(("m", m), [(u, m) for u in range(units)]) for m in range(months)]
        for whole, parts in sums:
            t.add_sum(whole, parts)
        true = {"all": total(list(cells)), **cells}
        true.update({("u", u): total([(u, m) for m in range(months)]) for u in range(units)})
        true.update({("m", m): total([(u, m) for u in range(units)]) for m in range(months)})
        for key, f in true.items():
            g = t.group(key)
            for measure in PUBLIC_MEASURES:
                c = g.counts[measure]
                assert c.suppressed or not 0 < c.value < n
            for rate, r in g.rates.items():
                part, base = RATE_PARTS[rate]
                if r.value is not None:
                    assert not any(g.counts[x].suppressed for x in (part, *base))
        for whole, parts in sums:
            for measure in PUBLIC_MEASURES:
                held = [p for p in parts if t.group(p).counts[measure].suppressed]
                if t.group(whole).counts[measure].suppressed:
                    assert held or sum(true[p][measure] for p in parts) == 0, (whole, measure)
                else:
                    # (a total of 0 tells that every part is 0: nothing there to withhold)
                    assert not held or true[whole][measure] == 0 or (
                        len(held) >= 2 and sum(true[p][measure] for p in held) >= n), \
                        (whole, measure, [(p, true[p][measure]) for p in held])
