"""The model: statechart and Petri-net IRs, CEL expressions, and the readers.

This package imports no other autoflow package (see docs/architecture.md).
"""
