"""The venue's AI work as django.tasks tasks, run by a worker (`scripts/worker`).

Thin on purpose: each task names a row and calls one function of composer.jobs or
composer.services, which own the logic (and are tested without a worker).
"""

from __future__ import annotations

from django.tasks import task


@task
def run_job(job_id: int) -> str:
    """Run one paid job: the chain, the asset, capture or refund. Returns the job's status."""
    from composer import jobs

    return jobs.execute(job_id)


@task
def index_asset(asset_id: int) -> bool:
    """Store a vector for a new Library asset (best effort; never fails the generation)."""
    from composer import services
    from composer.models import Asset

    asset = Asset.objects.select_related("venue", "created_by").filter(pk=asset_id).first()
    if asset is None:  # deleted meanwhile: nothing to index
        return False
    return services.index_asset(venue=asset.venue, user=asset.created_by, asset=asset)
