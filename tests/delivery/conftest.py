import pytest


@pytest.fixture(autouse=True)
def delivery_storage(settings, tmp_path):
    """Each test's delivered files in its own folder, in parts of 128 KiB (two segments)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "deliverables": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "deliverables")},
        },
    }
    settings.EXCHANGE_DELIVERY_CHUNK_BYTES = 128 * 1024
    return tmp_path / "deliverables"
