"""Use cases: one service per area, commands in, plain results out, one unit of work per call.

Imports the domain only (SPEC.md, principle 3).
"""
