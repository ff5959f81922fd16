"""Every private use of aiohttp, in one place (tests/unit/test_private_apis.py checks its shape).

- ``aiohttp.helpers.get_env_proxy_for_url``: the proxy that HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and
  ~/.netrc) give for a URL, exactly as aiohttp's own ``trust_env`` computes it. The transport reads it
  once per origin instead of letting ``trust_env`` look it up on every Bot API call (a worker-thread
  hop each time; bench/RESULTS.md). ``aiohttp.helpers`` is not documented API.

Written for aiohttp 3.14 (pyproject pins the upper bound).
"""

from __future__ import annotations

from typing import Any

from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL


def env_proxy_for(url: str) -> tuple[Any, Any]:
    """(proxy URL, proxy BasicAuth) for ``url`` from the environment; raises LookupError when none."""
    return get_env_proxy_for_url(URL(url))
