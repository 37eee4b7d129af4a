"""The edges: the only code that runs commands, talks HTTP, reads git, calls DVC and GTO, writes GitHub outputs."""
