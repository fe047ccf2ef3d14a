"""People who sign in: a phone-free user account."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person's account. Signs in with email and password; never with a phone number."""

    email = models.EmailField("email address", blank=True)

    class Meta:
        db_table = "accounts_user"
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_unique_ci",
            )
        ]
