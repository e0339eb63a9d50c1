"""The Play condition language: parse (with type checks) -> AST -> compiled closures, plus a
recursive explain evaluator that returns a trace."""
