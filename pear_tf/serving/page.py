"""The page at ``GET /``: choose or drop photos, see their scores (static/page.html).

Self-contained (inline CSS and script, no asset from elsewhere), so it works offline; it
calls the REST API of the same server. The served model names are written into it.
"""

import json
import os

_TEMPLATE = os.path.join(os.path.dirname(__file__), "static", "page.html")
_PLACEHOLDER = "/*MODELS*/[]"


def render(model_names):
    """The page's HTML with ``model_names`` (the models it can choose from)."""
    with open(_TEMPLATE, encoding="utf-8") as f:
        html = f.read()
    # "<" escaped so that no name can close the script element.
    return html.replace(_PLACEHOLDER, json.dumps(list(model_names)).replace("<", "\\u003c"))
