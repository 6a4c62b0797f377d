"""One TLS context for every HTTP client of a process.

httpx builds a context per client unless given one, and each loads the CA bundle again: about
0.8 MB resident per client (a live executor has three, the signal daemon one per feed). The
context is only read after it is built, so sharing it is safe across clients and threads.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def shared_tls() -> ssl.SSLContext:
    """The process's verifying TLS context (httpx's defaults: certifi's CA bundle, and
    SSL_CERT_FILE / SSL_CERT_DIR when set)."""
    return httpx.create_ssl_context()
