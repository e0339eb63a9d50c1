import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trade_core.engine.orders import LINK_ID_MAX, OrderIntent, link_id
from trade_core.errors import BadInputError


@given(
    st.text(alphabet="0123456789abcdef", min_size=8, max_size=64),
    st.integers(0, 2**42),
    st.integers(0, 10**9),
    st.text(max_size=50),
)
def test_link_ids_are_valid_deterministic_and_distinct_per_sequence(h, ts, seq, tag):
    a = link_id(h, ts, seq, tag)
    assert len(a) <= LINK_ID_MAX
    assert re.fullmatch(r"[A-Za-z0-9_-]+", a)
    assert a == link_id(h, ts, seq, tag)
    assert a != link_id(h, ts, seq + 1, tag)


def test_link_id_shape():
    # ts 1_700_000_000_000 ms -> 1_700_000_000 s -> base36 "s44we8"; seq 35 -> "z"
    assert (
        link_id("3f1c72807abe99", 1_700_000_000_000, 35, "entry.long")
        == "3f1c7280-s44we8-z-entry_long"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order_type": "Limit"}, "a Limit order needs a price > 0"),
        ({"price": 100.0}, "a Market order takes no price"),
        ({"qty": 0.0}, "qty must be > 0"),
        ({"side": "Long"}, "side must be Buy or Sell"),
        ({"trigger_price": 100.0}, "trigger_price and trigger_direction go together"),
        ({"trigger_price": 100.0, "trigger_direction": 3}, "trigger_direction is 1"),
        ({"tif": "PostOnly"}, "PostOnly applies to Limit orders only"),
        ({"link_id": "x" * 37}, "is not 1-36 chars"),
    ],
)
def test_bad_intents_are_refused_with_the_reason(kwargs, message):
    base = {"link_id": "abc", "symbol": "BTCUSDT", "side": "Buy", "qty": 1.0}
    with pytest.raises(BadInputError, match=re.escape(message)):
        OrderIntent(**{**base, **kwargs})


def test_a_valid_conditional_limit():
    o = OrderIntent("abc", "BTCUSDT", "Sell", 0.5, "Limit", price=99.5, tif="PostOnly",
                    trigger_price=100.0, trigger_direction=2)  # fmt: skip
    assert o.is_conditional
    assert o.sign == -1
