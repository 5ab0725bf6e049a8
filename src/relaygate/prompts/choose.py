"""Which version a reference names: `v3`, a label (one version or an A/B split by weight,
sticky: the same key always lands on the same version), or none (the `production` label,
else the newest version). Pure."""

from __future__ import annotations

import hashlib

from relaygate.errors import NotFound

DEFAULT_LABEL = "production"


def choose(template_id: str, latest: int, labels: dict[str, dict[str, int]],
           wanted: str | None, sticky: str) -> int:
    """The version number to use; NotFound names `prompt.version` for an unknown one."""
    if wanted is not None and wanted[:1] == "v" and wanted[1:].isdigit():
        number = int(wanted[1:])
        if not 1 <= number <= latest:
            raise NotFound(f"The prompt template has no version {wanted!r}.",
                           param="prompt.version", code="prompt_version_not_found")
        return number
    label = wanted if wanted is not None else DEFAULT_LABEL
    split = labels.get(label)
    if split is None:
        if wanted is None:
            return latest
        raise NotFound(f"The prompt template has no version or label {wanted!r}.",
                       param="prompt.version", code="prompt_version_not_found")
    return pick(split, f"{template_id}\x00{label}\x00{sticky}")


def pick(split: dict[str, int], key: str) -> int:
    """A version of the split, by weight, the same one for the same key."""
    total = sum(split.values())
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    point = int.from_bytes(digest, "big") % total
    for version, weight in sorted(split.items(), key=lambda item: int(item[0][1:])):
        if point < weight:
            return int(version[1:])
        point -= weight
    raise AssertionError("unreachable: the weights add up to the total")
