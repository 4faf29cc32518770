"""The rules as plain functions: no Flask, inputs as arguments, the caller commits."""
