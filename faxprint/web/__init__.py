"""The outbox: the web page and JSON API ``faxprint serve`` serves on ``[web] listen``
(:mod:`faxprint.web.app`), its door (:mod:`faxprint.web.guard`), what it shows and does
(:mod:`faxprint.web.jobs`), its server (:mod:`faxprint.web.server`) and the root sign-in
helper (:mod:`faxprint.web.auth`)."""
