"""Property tests: the compiled evaluator equals an independent naive interpreter of the raw
condition, explain agrees with both, short-circuit never reads what it need not, and the hash
ignores key order, number formatting and comments."""

from __future__ import annotations

import math
import random

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.plays import Driver, play_doc, rule_play
from trade_core.play import load_play_text
from trade_core.play.conditions.compile import FALSE, MISSING, NOT_READY, TRUE

NAMES = ["close", "open", "high"]
CMP = ["gt", "gte", "lt", "lte", "eq", "neq", "cross_above", "cross_below", "between", "outside"]

# ---------------------------------------------------------------- the naive reference
NR, MV = "NR", "MV"


def value(op, hist, s):
    if isinstance(op, int | float):
        return op
    name, _, off = op.partition("[")
    k = s + (int(off[:-1]) if off else 0)
    seq = hist[name]
    if k >= len(seq) or seq[k] is None:
        return NR
    return seq[k]


def leaf(cond, hist, s):
    a, op, b = cond
    if op in ("between", "outside"):
        vals = [value(a, hist, s), value(b[0], hist, s), value(b[1], hist, s)]
    elif op.startswith("cross"):
        vals = [value(a, hist, s), value(b, hist, s), value(a, hist, s + 1), value(b, hist, s + 1)]
    else:
        vals = [value(a, hist, s), value(b, hist, s)]
    if NR in vals:
        return NR
    if any(isinstance(v, float) and math.isnan(v) for v in vals):
        return MV
    if op in ("between", "outside"):
        x, lo, hi = vals
        return (lo <= x <= hi) == (op == "between")
    if op == "cross_above":
        return vals[2] <= vals[3] and vals[0] > vals[1]
    if op == "cross_below":
        return vals[2] >= vals[3] and vals[0] < vals[1]
    x, y = vals
    return {"gt": x > y, "gte": x >= y, "lt": x < y, "lte": x <= y, "eq": x == y, "neq": x != y}[op]


def fold(results, decisive, rest):
    if decisive in results:
        return decisive
    if NR in results:
        return NR
    if MV in results:
        return MV
    return rest


def ref(cond, hist, s=0):
    if isinstance(cond, list):
        return leaf(cond, hist, s)
    ((kind, body),) = cond.items()
    if kind == "all":
        return fold([ref(c, hist, s) for c in body], False, True)
    if kind == "any":
        return fold([ref(c, hist, s) for c in body], True, False)
    if kind == "not":
        r = ref(body, hist, s)
        return (not r) if isinstance(r, bool) else r
    if kind == "holds_for":
        return fold([ref(body["cond"], hist, s + k) for k in range(body["bars"])], False, True)
    if kind == "occurred_within":
        return fold([ref(body["cond"], hist, s + k) for k in range(body["bars"])], True, False)
    if kind == "count_at_least":
        rs = [ref(body["cond"], hist, s + k) for k in range(body["bars"])]
        hits, unknown = rs.count(True), sum(r in (NR, MV) for r in rs)
        if hits >= body["times"]:
            return True
        if hits + unknown < body["times"]:
            return False
        return NR if NR in rs else MV
    if kind == "bars_since":
        n = body["n"]
        rs = [ref(body["cond"], hist, s + k) for k in range(n + 2)]
        since = next((k for k, r in enumerate(rs) if r is True), None)
        before = rs if since is None else rs[:since]
        if NR in before:
            return NR
        if MV in before:
            return MV
        since = n + 2 if since is None else since
        x, y = since, n
        return {
            "gt": x > y,
            "gte": x >= y,
            "lt": x < y,
            "lte": x <= y,
            "eq": x == y,
            "neq": x != y,
        }[body["op"]]
    if kind in ("rising", "falling"):
        steps = []
        for k in range(s, s + body["bars"]):
            cur, prev = value(body["of"], hist, k), value(body["of"], hist, k + 1)
            if NR in (cur, prev):
                steps.append(NR)
            elif any(isinstance(v, float) and math.isnan(v) for v in (cur, prev)):
                steps.append(MV)
            else:
                steps.append(cur > prev if kind == "rising" else cur < prev)
        return fold(steps, False, True)
    raise AssertionError(kind)


TO_CODE = {True: TRUE, False: FALSE, NR: NOT_READY, MV: MISSING}

# ---------------------------------------------------------------- random trees
operand = st.sampled_from(["close", "open", "high", "close[1]", "open[2]"])
number = st.sampled_from([0, 1, 2, 3])


@st.composite
def leaves(draw):
    op = draw(st.sampled_from(CMP))
    a = draw(operand)
    if op in ("between", "outside"):
        lo = draw(st.one_of(number, operand))
        hi = draw(st.one_of(number, operand))
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            lo, hi = hi, lo
        return [a, op, [lo, hi]]
    b = draw(st.one_of(operand, number))
    return [a, op, b]


def windows(inner):
    bars = st.integers(1, 4)
    return st.one_of(
        st.builds(lambda b, c: {"holds_for": {"bars": b, "cond": c}}, bars, inner),
        st.builds(lambda b, c: {"occurred_within": {"bars": b, "cond": c}}, bars, inner),
        st.builds(lambda b, t, c: {"count_at_least": {"bars": b, "times": min(t, b), "cond": c}},
                  bars, st.integers(1, 4), inner),
        st.builds(lambda c, o, n: {"bars_since": {"cond": c, "op": o, "n": n}}, inner,
                  st.sampled_from(["gt", "gte", "lt", "lte", "eq", "neq"]), st.integers(0, 3)),
        st.builds(lambda k, b, of: {k: {"bars": b, "of": of}}, st.sampled_from(["rising", "falling"]),
                  bars, st.sampled_from(["close", "open[1]"])),
    )  # fmt: skip


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
        windows(inner),
    ),
    max_leaves=6,
)
cell = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0]), st.just(math.nan))
histories = st.lists(st.tuples(cell, cell, cell), min_size=0, max_size=12)


def drive(rule, rows):
    d = Driver(rule_play(rule))
    for c, o, h in rows:
        d.step(close=c, open=o, high=h)
    hist = {n: [r[i] for r in reversed(rows)] for i, n in enumerate(NAMES)}
    return d, hist


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, histories)
def test_compiled_equals_reference_and_explain(rule, rows):
    d, hist = drive(rule, rows)
    expected = TO_CODE[ref(rule, hist)]
    assert d.code() == expected, (rule, rows)
    assert d.play.evaluate("entry.long", d.snap, explain=True).code == expected
    assert d.fires() is (expected == TRUE)


class CountingRings(list):
    """Rings that record which slots were read."""

    def __init__(self, rings):
        super().__init__(rings)
        self.read = set()

    def __getitem__(self, slot):
        self.read.add(slot)
        return super().__getitem__(slot)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["all", "any"]), conditions, histories)
def test_short_circuit_never_reads_the_right_side_when_the_left_decides(kind, right, rows):
    decisive = ["close", "lt", -1] if kind == "all" else ["close", "gt", -1]
    play = rule_play({kind: [decisive, right]}, features={})
    d = Driver(play)
    for c, o, h in rows:
        d.step(close=0.0 if math.isnan(c) else c, open=o, high=h)
    rings = CountingRings(d.snap.rings)
    code = play.rules["entry.long"].fn(rings, 0)
    if not rows:
        assert code == NOT_READY
        return
    assert code == (FALSE if kind == "all" else TRUE)
    close_slot = next(s for k, s in play.series.items() if k.source == "close" and k.offset == 0)
    assert rings.read == {close_slot}


# ---------------------------------------------------------------- hash stability
def shuffled(obj, rng):
    if isinstance(obj, dict):
        items = list(obj.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(obj, list):
        return [shuffled(v, rng) for v in obj]
    return obj


def reformat_numbers(text: str) -> str:
    return (
        text.replace("length: 3", "length: 3.0")
        .replace("qty: 1", "qty: 1.00")
        .replace("length: 5", "length: 5e0")
        .replace("2.5", "25e-1")
    )


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_hash_ignores_key_order_number_format_and_comments(seed):
    doc = play_doc(entries={"long": {"all": [["close", "gt", "open"], ["fast", "gt", 2.5]]}})
    base = load_play_text(yaml.safe_dump(doc, sort_keys=False)).hash
    rng = random.Random(seed)
    text = yaml.safe_dump(
        shuffled(doc, rng), sort_keys=False, default_flow_style=rng.random() < 0.5
    )
    text = "# a comment\n" + reformat_numbers(text).replace("\n", "  # note\n", 1)
    assert load_play_text(text).hash == base


def test_hash_changes_with_behaviour_and_not_with_explicit_defaults():
    base = load_play_text(yaml.safe_dump(play_doc())).hash
    explicit = play_doc()
    explicit["features"]["fast"] = {
        "indicator": "ema",
        "length": 3,
        "source": "close",
        "tf": "exec",
    }
    explicit["execution"] = {"slippage_bps": 0}
    assert load_play_text(yaml.safe_dump(explicit)).hash == base
    changed = play_doc()
    changed["features"]["fast"] = {"indicator": "ema", "length": 4}
    assert load_play_text(yaml.safe_dump(changed)).hash != base
    assert load_play_text(yaml.safe_dump(play_doc(version=2))).hash != base
