"""Who may see a route of the web router: its handler's `opt={ACCESS: Access...}`, which the
router's admission hook (`interfaces.web.pages.admission`) reads. Forgetting the option keeps
a new page private."""

from __future__ import annotations

import enum
from typing import Final

ACCESS: Final = "web_access"


class Access(enum.StrEnum):
    """Who may see a route of the web router (its handler's `opt[ACCESS]`)."""

    SIGNED_IN = "signed_in"  # the default: a viewer, else a redirect to the sign-in page
    # Anyone; the viewer, if any, is looked up (the sign-in and set-password pages).
    ANONYMOUS = "anonymous"
    # Anyone, and no one is looked up for a GET or HEAD (assets, redirects); a POST is
    # admitted as on an ANONYMOUS route (the language switch), its CSRF token checked.
    PUBLIC = "public"
