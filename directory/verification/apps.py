from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "directory.verification"
    label = "verification"
    verbose_name = "Handle verification"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Contested claims are a moderation queue: the admin dashboard counts them and shows
        # how long the oldest has waited.
        from directory.moderation.queues import Queue, register_queue

        register_queue(
            Queue(
                key="contested",
                title="Contested verifications",
                open_items=_open_contested_claims,
                waiting_since="created_at",
                changelist="admin:verification_contestedclaim_changelist",
                query="status__exact=open",
                permission="verification.view_contestedclaim",
            )
        )


def _open_contested_claims():
    from directory.verification.models import ContestedClaim

    return ContestedClaim.objects.filter(status=ContestedClaim.Status.OPEN)
