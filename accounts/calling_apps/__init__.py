"""Calling apps: API clients registered by developers, authenticating as OAuth2 clients
(django-oauth-toolkit, RFC 6749), and the pages where people manage them."""
