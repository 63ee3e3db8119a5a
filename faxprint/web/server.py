"""The outbox's web server inside ``faxprint serve``: CherryPy's cheroot (threads, TLS) on
``[web] listen``, stopped with the service. A port it cannot bind is one warning: the
service goes on sending without its outbox."""

from __future__ import annotations

import logging
import threading

from faxprint import config as configuration
from faxprint.logfmt import event

logger = logging.getLogger(__name__)


def start(settings: configuration.Config, stopping: threading.Event) -> str:
    """Serve the outbox in threads until ``stopping``; return its address ("" if none)."""
    web = settings.web
    if not web.listen:
        return ""
    from cheroot import wsgi

    from faxprint.web.app import create_app

    host, _, port = web.listen.rpartition(":")
    secure = bool(web.tls_cert)
    server = wsgi.Server((host.strip("[]") or "127.0.0.1", int(port)),
                         create_app(settings, secure=secure), numthreads=4,
                         server_name="faxprint")  # fmt: skip
    server.max_request_header_size = 16 * 1024  # no header block of megabytes
    server.max_request_body_size = 8 * 1024 * 1024
    if secure:
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        server.ssl_adapter = BuiltinSSLAdapter(web.tls_cert, web.tls_key)
    try:
        server.prepare()
    except (OSError, ValueError) as exc:
        event(logger, logging.WARNING, "outbox", message=f"the outbox cannot listen on "
              f"{web.listen}: {exc}; faxprint serve goes on without it")  # fmt: skip
        return ""
    threading.Thread(target=server.serve, name="outbox", daemon=True).start()

    def stop() -> None:
        stopping.wait()
        server.stop()

    threading.Thread(target=stop, name="outbox-stop", daemon=True).start()
    bound = server.bind_addr
    where = f"{'https' if secure else 'http'}://{web.listen.rpartition(':')[0]}:{bound[1]}"
    event(logger, logging.INFO, "outbox", url=where)
    return where
