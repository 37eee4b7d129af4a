"""Tables, the schema, validation, drift and the demo generator."""
