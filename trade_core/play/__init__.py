"""The Play: model, condition language, warm-up, explain traces, canonical hash.

Public API: :func:`load_play`, :class:`Play` (``.hash``, ``.warmup``, ``.evaluate``),
:func:`play_json_schema`, :class:`PlayValidationError`.
"""

from trade_core.play.issues import PlayIssue, PlayValidationError
from trade_core.play.loader import load_play, load_play_text
from trade_core.play.play import Play
from trade_core.play.schema import play_json_schema

__all__ = [
    "Play",
    "PlayIssue",
    "PlayValidationError",
    "load_play",
    "load_play_text",
    "play_json_schema",
]
