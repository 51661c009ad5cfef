from django.apps import AppConfig


class ComposerConfig(AppConfig):
    name = "composer"
    verbose_name = "Composer and library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The credit reconciler must see job state (a hold spans its job); credits imports nothing
        # from composer, so composer tells it.
        from composer import jobs
        from credits import reconcile

        reconcile.register_job_state(
            reconcile.JobState(live=jobs.live_request_ids, fail_abandoned=jobs.fail_abandoned_jobs)
        )
