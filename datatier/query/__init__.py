"""Query documents -> SQL: planning (names and values checked), compiling once per shape, decoding."""
