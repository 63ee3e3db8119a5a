"""Where the REST side's resources are, as RingCentral documents them.

The account and extension are ``~``, the signed-in user ([spec] parameters ``accountId``,
``extensionId``); :mod:`faxprint.sandbox.rest_http` also takes the user's own ids there,
as the answers' URIs give them.
"""

from __future__ import annotations

API = "/restapi/v1.0"
#: [docs] ``authentication/jwt-flow.md``.
TOKEN_PATH = "/restapi/oauth/token"  # noqa: S105 -- a path, not a password
#: [docs] ``messaging/fax/sending-faxes.md``, [spec] ``createFaxMessage``.
FAX_PATH = f"{API}/account/~/extension/~/fax"
#: [spec] ``listMessages``; ``readMessage`` adds ``/ID``.
MESSAGES_PATH = f"{API}/account/~/extension/~/message-store"
#: [spec] ``listFaxCoverPages``.
COVERS_PATH = f"{API}/dictionary/fax-cover-page"
