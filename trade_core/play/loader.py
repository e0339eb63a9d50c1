"""``load_play(path)``: read, check and compile a Play, reporting every problem at once."""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from trade_core.config import get_settings
from trade_core.errors import BadInputError
from trade_core.features.registry import did_you_mean
from trade_core.play.conditions.parse import ConditionParser
from trade_core.play.context import PlayContext
from trade_core.play.features import resolve_features
from trade_core.play.issues import Path, PlayIssue, PlayValidationError
from trade_core.play.model import ROLES, PlayModel, Timeframes
from trade_core.play.play import Play, build_play
from trade_core.play.yaml_source import YamlSource, YamlSyntaxError, parse_yaml

RULES = (("entries", "long"), ("entries", "short"), ("exits", "long"), ("exits", "short"))
RISK_REFS = (
    ("stop_loss", "atr"),
    ("stop_loss", "level"),
    ("take_profit", "atr"),
    ("trailing", "atr"),
)


def load_play(path: str | FsPath) -> Play:
    """Load the Play file at ``path``; :class:`PlayValidationError` lists every problem."""
    p = FsPath(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{p}: no such play file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{p}: cannot read: {exc}") from None
    return load_play_text(text, str(p))


def load_play_text(text: str, file: str = "<play>") -> Play:
    """Like :func:`load_play`, from YAML text (``file`` names it in messages)."""
    try:
        src = parse_yaml(text, file)
    except YamlSyntaxError as exc:
        raise PlayValidationError([PlayIssue(file, exc.line, (), exc.message)]) from None
    if not isinstance(src.data, dict):
        raise PlayValidationError([PlayIssue(file, 1, (), "a play is a YAML mapping (key: value)")])
    ctx = PlayContext(src)
    model = _check_model(src, ctx)
    ctx.roles = _roles(src.data.get("timeframes"))
    parser = _check_semantics(src.data, ctx, model)
    if ctx.issues:
        raise PlayValidationError(ctx.issues)
    assert model is not None
    return build_play(model, ctx, parser, src)


def _check_model(src: YamlSource, ctx: PlayContext) -> PlayModel | None:
    try:
        return PlayModel.model_validate(src.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            if loc and loc[-1] == "[key]":  # a bad mapping key: report it at the key
                loc = loc[:-1]
                err = {**err, "msg": f"id {loc[-1]!r} is not allowed: {err['msg']}"}
            ctx.error(loc, _message(err, loc))
    return None


def _message(err: dict[str, Any], loc: Path) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        parent = _model_at(loc[:-1])
        options = list(parent.model_fields) if parent else []
        hint = did_you_mean(str(loc[-1]), options)
        allowed = f"; allowed: {', '.join(options)}" if options else ""
        return f"unknown key {loc[-1]!r}{hint}{allowed}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    got = err.get("input")
    if kind not in ("value_error",) and not isinstance(got, dict | list):
        msg += f" (got {got!r})"
    return msg


def _model_at(loc: Path) -> type[BaseModel] | None:
    model: type[BaseModel] = PlayModel
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        nxt = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if nxt is None:
            return None
        model = nxt
    return model


def _roles(raw: Any) -> dict[str, str]:
    """Declared roles; on a broken ``timeframes`` block, the roles that look declared."""
    if not isinstance(raw, dict):
        return {}
    try:
        return Timeframes.model_validate(raw).declared()
    except ValidationError:
        return {r: raw[r] for r in ROLES if isinstance(raw.get(r), str)}


def _check_semantics(data: dict, ctx: PlayContext, model: PlayModel | None) -> ConditionParser:
    resolve_features(data.get("features", {}), ctx)
    setups = data.get("setups") or {}
    parser = ConditionParser(ctx, setups)
    if not ctx.roles:
        return parser
    if isinstance(setups, dict):
        for name in setups:
            if isinstance(name, str):
                parser.parse_setup(name)
    for section, side in RULES:
        block = data.get(section)
        if isinstance(block, dict) and block.get(side) is not None:
            parser.parse(block[side], (section, side))
    _check_risk(data.get("risk"), ctx, parser)
    return parser


def _check_risk(risk: Any, ctx: PlayContext, parser: ConditionParser) -> None:
    if not isinstance(risk, dict):
        return
    for block, key in RISK_REFS:
        part = risk.get(block)
        if isinstance(part, dict) and isinstance(part.get(key), str):
            op = parser.series_operand(part[key], ("risk", block, key))
            if op is not None and op.vtype.kind != "number":
                ctx.error(("risk", block, key), f"{part[key]!r} is {op.vtype}, expected a number")
    cap = get_settings().trade_max_leverage
    lev = risk.get("leverage")
    if isinstance(lev, int | float) and not isinstance(lev, bool) and lev > cap:
        ctx.error(
            ("risk", "leverage"),
            f"leverage {lev:g} exceeds the system cap of {cap:g} (TRADE_MAX_LEVERAGE)",
        )
