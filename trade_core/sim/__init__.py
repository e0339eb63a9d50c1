"""The simulated Bybit linear-perpetual exchange (one-way mode, isolated margin)."""
