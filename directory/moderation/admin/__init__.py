"""The moderation console in the Django admin: the queues, the actions (each with a
required reason, in bulk), the action log, appeals and reserved names.

Entries, handles and endpoints keep :mod:`directory.admin`'s model admins, re-registered
here as subclasses whose actions are the moderation services (reason, permission, audit
event, owner notice) and whose lists stay fast on a million rows: a bounded count, no
date drill-down, entry search through the search backend and indexed skeleton matches.
"""

from directory.moderation.admin import accounts, directories, queues  # noqa: F401  (registers)
