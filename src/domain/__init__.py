"""Archivist's domain: entities, value objects, the access policy, errors and ports.

Standard library only (SPEC.md, principle 3).
"""
