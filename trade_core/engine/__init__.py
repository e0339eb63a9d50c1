"""The one PlayEngine and what it stands on: the multi-timeframe clock, feeds, sizing."""
