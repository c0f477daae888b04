"""Storage operations the Django storage API has no word for: copying a stored file."""

from django.core.files import File
from django.db.models.fields.files import FieldFile
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


def copy_file(source: FieldFile, target: FieldFile, filename: str) -> None:
    """Store a copy of `source` in `target` (a field of an unsaved instance; the instance is
    not saved). On S3 the bucket copies the object itself, so the bytes never reach us."""
    storage = target.storage
    if isinstance(storage, S3Storage) and source.storage is storage:
        name = storage.get_available_name(
            target.field.generate_filename(target.instance, filename), max_length=target.field.max_length
        )
        key = storage._normalize_name(clean_name(name))  # the object key (`location` prefix)
        source_key = storage._normalize_name(clean_name(source.name))
        storage.bucket.Object(key).copy_from(CopySource={"Bucket": storage.bucket_name, "Key": source_key})
        target.name = name  # as FieldFile.save leaves it
        setattr(target.instance, target.field.attname, name)
        target._committed = True
        return
    with source.open("rb") as fh:
        target.save(filename, File(fh), save=False)
