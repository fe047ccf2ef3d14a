"""The owner's pages for their own entries: create, edit, delete, endpoints, handles.

Mounted under ``/account/`` (namespace ``owner``). Every write goes through
:mod:`directory.services`, as the owner API does.
"""
