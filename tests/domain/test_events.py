"""Golden cases for event coalescing (EV3, EV4, EV6) and the `previous` diff (EV5)."""

from __future__ import annotations

import copy
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally.domain.events import EventBuffer, diff_previous


def summary(buffer: EventBuffer) -> list[tuple]:
    """(type, object_id, object, previous) for every event a request would store."""
    return [(e.type, e.object_id, e.object, e.previous) for e in buffer.drain()]


# --- EV5: previous -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "previous"),
    [
        pytest.param({"name": "A"}, {"name": "B"}, {"name": "A"}, id="changed-scalar"),
        pytest.param(
            {"name": "A", "email": "a@x.io", "total": 5},
            {"name": "A", "email": "b@x.io", "total": 5},
            {"email": "a@x.io"},
            id="only-changed-keys",
        ),
        pytest.param({"name": "A"}, {"name": "A"}, {}, id="nothing-changed"),
        pytest.param({"total": 20}, {"total": 20.0}, {}, id="int-float-equal"),
        pytest.param({"total": 20.0}, {"total": 20}, {}, id="float-int-equal"),
        pytest.param({"total": 20}, {"total": Decimal("20.00")}, {}, id="int-decimal-equal"),
        pytest.param({"rate": 0.5}, {"rate": Decimal("0.50")}, {}, id="float-decimal-equal"),
        pytest.param({"total": 100}, {"total": 150}, {"total": 100}, id="number-changed"),
        pytest.param(
            {"total": Decimal("10.5")}, {"total": 10.25}, {"total": Decimal("10.5")}, id="dec"
        ),
        pytest.param({"notes": None}, {"notes": "hi"}, {"notes": None}, id="null-to-value"),
        pytest.param({"notes": "hi"}, {"notes": None}, {"notes": "hi"}, id="value-to-null"),
        pytest.param({"name": "A"}, {"name": "A", "tax_id": "X1"}, {"tax_id": None}, id="new-key"),
        pytest.param(
            {"metadata": {"a": "1", "b": "2"}},
            {"metadata": {"a": "1", "b": "3"}},
            {"metadata": {"b": "2"}},
            id="nested-only-changed-inner-keys",
        ),
        pytest.param(
            {"metadata": {"a": "1"}},
            {"metadata": {"a": "1", "c": "9"}},
            {"metadata": {"c": None}},
            id="nested-new-inner-key-null",
        ),
        pytest.param(
            {"ship_to": {"name": "A", "address": {"city": "X", "zip": "1"}}},
            {"ship_to": {"name": "A", "address": {"city": "Y", "zip": "1"}}},
            {"ship_to": {"address": {"city": "X"}}},
            id="deeply-nested",
        ),
        pytest.param(
            {"metadata": {"a": "1"}, "name": "A"},
            {"metadata": {"a": "1"}, "name": "B"},
            {"name": "A"},
            id="unchanged-nested-absent",
        ),
        pytest.param(
            {"ship_to": None},
            {"ship_to": {"name": "A"}},
            {"ship_to": None},
            id="null-to-object",
        ),
        pytest.param(
            {"ship_to": {"name": "A"}},
            {"ship_to": None},
            {"ship_to": {"name": "A"}},
            id="object-to-null",
        ),
        pytest.param(
            {"items": [{"quantity": 1}, {"quantity": 2}]},
            {"items": [{"quantity": 1}, {"quantity": 3}]},
            {"items": [{"quantity": 1}, {"quantity": 2}]},
            id="list-whole-old-array",
        ),
        pytest.param(
            {"items": [{"quantity": 1}]},
            {"items": [{"quantity": 1}, {"quantity": 2}]},
            {"items": [{"quantity": 1}]},
            id="list-grew",
        ),
        pytest.param(
            {"discounts": ["a", "b"]},
            {"discounts": ["b", "a"]},
            {"discounts": ["a", "b"]},
            id="ord",
        ),
        pytest.param({"taxes": []}, {"taxes": ["vat"]}, {"taxes": []}, id="empty-list-grew"),
        pytest.param(
            {"items": [{"quantity": 1}, {"amount": 2}]},
            {"items": [{"quantity": 1.0}, {"amount": Decimal("2.00")}]},
            {},
            id="list-numerically-equal",
        ),
        pytest.param(
            {"items": [{"quantity": 1}], "name": "A"},
            {"items": [{"quantity": 1}], "name": "A"},
            {},
            id="list-unchanged",
        ),
    ],
)
def test_ev5_previous(old: dict, new: dict, previous: dict) -> None:
    assert diff_previous(old, new) == previous


def test_ev5_does_not_mutate_inputs() -> None:
    old = {"metadata": {"a": "1"}, "items": [{"q": 1}]}
    new = {"metadata": {"a": "2"}, "items": [{"q": 2}]}
    old_copy, new_copy = copy.deepcopy(old), copy.deepcopy(new)
    diff_previous(old, new)
    assert (old, new) == (old_copy, new_copy)


# --- EV3/EV4/EV6: coalescing -----------------------------------------------------------------


def test_ev2_created_carries_full_object() -> None:
    buffer = EventBuffer()
    buffer.created("customer", 1, {"id": 1, "name": "A"})
    assert summary(buffer) == [("customer.created", 1, {"id": 1, "name": "A"}, None)]


def test_ev2_deleted_carries_last_state() -> None:
    buffer = EventBuffer()
    buffer.deleted("customer", 1, {"id": 1, "name": "A"})
    assert summary(buffer) == [("customer.deleted", 1, {"id": 1, "name": "A"}, None)]


def test_ev4_create_then_update_is_one_created_with_final_state() -> None:
    buffer = EventBuffer()
    buffer.created("customer", 1, {"id": 1, "name": "A", "number": None})
    buffer.updated(
        "customer",
        1,
        {"id": 1, "name": "A", "number": None},
        {"id": 1, "name": "A", "number": "CUST-00001"},
    )
    buffer.updated(
        "customer",
        1,
        {"id": 1, "name": "A", "number": "CUST-00001"},
        {"id": 1, "name": "B", "number": "CUST-00001"},
    )
    assert summary(buffer) == [
        ("customer.created", 1, {"id": 1, "name": "B", "number": "CUST-00001"}, None)
    ]


@pytest.mark.parametrize("updates", [0, 1, 3])
def test_ev4_create_then_delete_gives_no_event(updates: int) -> None:
    buffer = EventBuffer()
    buffer.created("customer", 1, {"id": 1, "total": 0})
    for n in range(updates):
        buffer.updated("customer", 1, {"id": 1, "total": n}, {"id": 1, "total": n + 1})
    buffer.deleted("customer", 1, {"id": 1, "total": updates})
    assert summary(buffer) == []


def test_ev4_create_then_delete_leaves_other_objects_alone() -> None:
    buffer = EventBuffer()
    buffer.created("customer", 1, {"id": 1})
    buffer.created("customer", 2, {"id": 2})
    buffer.created("contact", 1, {"id": 1})
    buffer.deleted("customer", 1, {"id": 1})
    assert summary(buffer) == [
        ("customer.created", 2, {"id": 2}, None),
        ("contact.created", 1, {"id": 1}, None),
    ]


def test_ev4_several_updates_keep_oldest_previous() -> None:
    buffer = EventBuffer()
    buffer.updated("invoice", 7, {"id": 7, "total": 100}, {"id": 7, "total": 150})
    buffer.updated("invoice", 7, {"id": 7, "total": 150}, {"id": 7, "total": 200})
    assert summary(buffer) == [("invoice.updated", 7, {"id": 7, "total": 200}, {"total": 100})]


def test_ev4_several_updates_of_different_keys_merge_previous() -> None:
    buffer = EventBuffer()
    buffer.updated("customer", 1, {"name": "A", "email": None}, {"name": "B", "email": None})
    buffer.updated("customer", 1, {"name": "B", "email": None}, {"name": "B", "email": "b@x.io"})
    assert summary(buffer) == [
        ("customer.updated", 1, {"name": "B", "email": "b@x.io"}, {"name": "A", "email": None})
    ]


def test_ev3_ev4_updates_that_cancel_out_give_no_event() -> None:
    buffer = EventBuffer()
    buffer.updated("invoice", 7, {"total": 100}, {"total": 150})
    buffer.updated("invoice", 7, {"total": 150}, {"total": 100})
    assert summary(buffer) == []


def test_ev4_update_after_delete_is_separate() -> None:
    buffer = EventBuffer()
    buffer.deleted("subscription", 3, {"id": 3, "status": "canceled"})
    buffer.updated(
        "subscription", 3, {"id": 3, "status": "canceled"}, {"id": 3, "status": "finished"}
    )
    assert summary(buffer) == [
        ("subscription.deleted", 3, {"id": 3, "status": "canceled"}, None),
        ("subscription.updated", 3, {"id": 3, "status": "finished"}, {"status": "canceled"}),
    ]


def test_ev4_updates_to_different_objects_are_separate() -> None:
    buffer = EventBuffer()
    buffer.updated("customer", 1, {"name": "A"}, {"name": "B"})
    buffer.updated("customer", 2, {"name": "C"}, {"name": "D"})
    buffer.updated("contact", 1, {"name": "E"}, {"name": "F"})
    assert summary(buffer) == [
        ("customer.updated", 1, {"name": "B"}, {"name": "A"}),
        ("customer.updated", 2, {"name": "D"}, {"name": "C"}),
        ("contact.updated", 1, {"name": "F"}, {"name": "E"}),
    ]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param({"name": "A", "updated_at": 1}, {"name": "A", "updated_at": 2}, id="stamp"),
        pytest.param({"name": "A"}, {"name": "A"}, id="identical"),
        pytest.param({"total": 20}, {"total": 20.0}, id="numerically-equal"),
    ],
)
def test_ev3_update_without_real_change_gives_no_event(before: dict, after: dict) -> None:
    buffer = EventBuffer()
    buffer.updated("customer", 1, before, after)
    assert summary(buffer) == []


def test_ev3_update_with_updated_at_and_real_change_keeps_both() -> None:
    buffer = EventBuffer()
    buffer.updated("customer", 1, {"name": "A", "updated_at": 1}, {"name": "B", "updated_at": 2})
    assert summary(buffer) == [
        ("customer.updated", 1, {"name": "B", "updated_at": 2}, {"name": "A", "updated_at": 1})
    ]


def test_ev6_special_type_replaces_updated() -> None:
    buffer = EventBuffer()
    buffer.updated("invoice", 7, {"paid": False, "balance": 50}, {"paid": False, "balance": 20})
    buffer.updated(
        "invoice",
        7,
        {"paid": False, "balance": 20},
        {"paid": True, "balance": 0},
        event_type="invoice.paid",
    )
    assert summary(buffer) == [
        ("invoice.paid", 7, {"paid": True, "balance": 0}, {"paid": False, "balance": 50})
    ]


def test_ev6_special_type_alone() -> None:
    buffer = EventBuffer()
    buffer.updated(
        "invoice",
        7,
        {"paid": False, "balance": 20},
        {"paid": True, "balance": 0},
        event_type="invoice.paid",
    )
    (event,) = buffer.drain()
    assert event.type == "invoice.paid"
    assert event.previous == {"paid": False, "balance": 20}


def test_ev6_special_type_not_merged_into_created() -> None:
    buffer = EventBuffer()
    buffer.created("invoice", 7, {"paid": False, "balance": 20})
    buffer.updated(
        "invoice",
        7,
        {"paid": False, "balance": 20},
        {"paid": True, "balance": 0},
        event_type="invoice.paid",
    )
    assert summary(buffer) == [
        ("invoice.created", 7, {"paid": False, "balance": 20}, None),
        ("invoice.paid", 7, {"paid": True, "balance": 0}, {"paid": False, "balance": 20}),
    ]


def test_ev6_update_after_paid_stays_paid() -> None:
    buffer = EventBuffer()
    buffer.updated(
        "invoice",
        7,
        {"paid": False, "notes": None},
        {"paid": True, "notes": None},
        event_type="invoice.paid",
    )
    buffer.updated("invoice", 7, {"paid": True, "notes": None}, {"paid": True, "notes": "x"})
    assert summary(buffer) == [
        ("invoice.paid", 7, {"paid": True, "notes": "x"}, {"paid": False, "notes": None})
    ]


def test_drain_empties_the_buffer() -> None:
    buffer = EventBuffer()
    buffer.created("customer", 1, {"id": 1})
    assert len(buffer.drain()) == 1
    assert buffer.drain() == []


# --- properties ---------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
snapshots_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=15,
)
snapshots = st.dictionaries(st.text(max_size=8), snapshots_values, max_size=8)


@given(snapshots)
def test_ev5_identical_snapshots_have_no_previous(snapshot: dict) -> None:
    assert diff_previous(snapshot, copy.deepcopy(snapshot)) == {}


def _as_floats(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) < 2**53:
        return float(value)
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_floats(v) for k, v in value.items()}
    return value


@given(snapshots)
def test_ev5_integers_written_as_floats_are_not_changes(snapshot: dict) -> None:
    assert diff_previous(snapshot, _as_floats(snapshot)) == {}


flat = st.dictionaries(st.sampled_from("abcdef"), st.integers(0, 3), max_size=6)


@given(flat, flat)
def test_ev5_flat_previous_is_old_value_of_each_changed_key(old: dict, new: dict) -> None:
    expected = {k: old.get(k) for k in new if old.get(k, object()) != new[k]}
    expected.update({k: v for k, v in old.items() if k not in new})
    assert diff_previous(old, new) == expected


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=6))
def test_ev4_chain_of_updates_keeps_first_value(totals: list[int]) -> None:
    buffer = EventBuffer()
    for before, after in itertools.pairwise(totals):
        buffer.updated("invoice", 1, {"total": before}, {"total": after})
    events = buffer.drain()
    if len(totals) < 2 or totals[0] == totals[-1]:
        assert events == []
    else:
        assert [(e.object, e.previous) for e in events] == [
            ({"total": totals[-1]}, {"total": totals[0]})
        ]


def test_an_occurrence_stands_alone_and_never_absorbs_a_change() -> None:
    """EV7: invoice.viewed then invoice.updated in one request stay two events, in order."""
    buffer = EventBuffer()
    before = {"id": 1, "status": "sent", "updated_at": 1}
    after = {"id": 1, "status": "viewed", "updated_at": 2}
    buffer.occurred("invoice.viewed", "invoice", 1, after)
    buffer.updated("invoice", 1, before, after)
    events = buffer.drain()
    assert [(e.type, e.previous) for e in events] == [
        ("invoice.viewed", None),
        ("invoice.updated", {"status": "sent", "updated_at": 1}),
    ]
