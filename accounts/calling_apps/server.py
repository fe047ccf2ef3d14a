"""The OAuth2 server django-oauth-toolkit runs (``OAUTH2_SERVER_CLASS``)."""

from __future__ import annotations

from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256


class S256OnlyServer(Server):
    """oauthlib's server whose authorization-code grant knows only the ``S256`` PKCE
    method (RFC 7636 §4.2; RFC 9700 §2.1.1): a request with ``code_challenge_method=plain``,
    or with a challenge and no method (which RFC 7636 reads as ``plain``), is refused with
    ``invalid_request`` before the person is asked to approve anything."""

    def __init__(self, request_validator, *args, **kwargs) -> None:
        super().__init__(request_validator, *args, **kwargs)
        self.auth_grant._code_challenge_methods = {"S256": code_challenge_method_s256}
