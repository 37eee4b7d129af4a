"""Bring your own table: infer schema, task and features; edit the project files; apply atomically."""
