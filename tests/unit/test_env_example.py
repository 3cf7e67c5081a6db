"""`.env.example` names every setting the application reads (issue #13 must-show 6): an
operator reading it finds every knob, and a new setting cannot ship undocumented."""

from __future__ import annotations

from pathlib import Path

from infrastructure.config import AppSettings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _names(field_name: str) -> list[str]:
    field = AppSettings.model_fields[field_name]
    names = [f"ARCHIVIST_{field_name.upper()}"]
    alias = field.validation_alias
    if alias is not None:
        names += [a for a in getattr(alias, "choices", [alias]) if isinstance(a, str)]
    return names


def test_every_setting_is_named_in_env_example() -> None:
    documented = ENV_EXAMPLE.read_text(encoding="utf-8")

    missing = [
        _names(name)[0]
        for name in AppSettings.model_fields
        if not any(n in documented for n in _names(name))
    ]

    assert missing == [], f"not in .env.example: {', '.join(missing)}"
