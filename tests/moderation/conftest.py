from directory.moderation.tests.fixtures import *  # noqa: F403
