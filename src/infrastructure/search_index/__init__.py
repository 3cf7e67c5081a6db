"""The search index's model, shared by both storages: how text becomes lexemes
(`analysis`), how a query becomes a plan, counts become scores, and a match a snippet (`query`)."""
