"""The branch's rules as plain Python: no Qt, no SQL. Values in, values out."""
