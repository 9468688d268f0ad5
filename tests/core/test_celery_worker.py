import pytest


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_takes_a_task_from_redis_and_completes_it(celery_worker_process):
    # when a task is sent through the Redis broker to a separate worker process
    result = celery_worker_process.run("core.tasks.heartbeat_task", timeout=60)
    # then the worker ran it and stored its answer in the Redis result backend
    assert result.startswith("20")
    assert "core.tasks.heartbeat_task" in celery_worker_process.log()
