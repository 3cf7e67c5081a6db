"""The search index's model, shared by both storages: how text becomes lexemes
(`analysis`), how a query becomes a plan (`plan`, with `tsquery` for operators), counts become
scores (`scoring`), and a match a snippet (`snippets`)."""
