"""``creval leaderboard push``: the leaderboard's values as a Hugging Face ``datasets`` dataset.

One row per schedule x checkpoint (step) x task x statistic, the columns of ``leaderboard.csv``
(``mean`` is the value: the mean over prompts, or the one cell-level value; ``ci_low``/``ci_high`` its
95% interval, NaN where it has none; ``signature`` the statistic's signature; ``cell`` the stored cell).
``save_to_disk`` writes it to a folder (offline; ``datasets.load_from_disk`` reads it back);
``push_to_hub`` publishes it as a dataset repository (online; needs ``huggingface-cli login`` or HF_TOKEN).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from creval.errors import CrevalError

from .collect import read_sweep

COLUMNS = {"schedule": "string", "step": "int64", "stage": "string", "task": "string", "family": "string",
           "statistic": "string", "mean": "float64", "ci_low": "float64", "ci_high": "float64",
           "n_prompts": "int64", "signature": "string", "cell": "string"}


def hub_offline() -> bool:
    """HF_HUB_OFFLINE set to a true value, as ``huggingface_hub`` reads it."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def check_request(repo: str | None, to_disk: Path | None) -> None:
    """Refuse, before anything is read, a push that cannot happen: nothing asked, a malformed repository
    id, a push while the Hub is offline with nowhere else to save."""
    from huggingface_hub.utils import validate_repo_id

    if repo is None and to_disk is None:
        raise CrevalError("nothing to do: give --repo ID (push to the Hub) and/or --to-disk DIR (save locally)")
    if repo is None:
        return
    try:
        validate_repo_id(repo)
    except ValueError as exc:  # HFValidationError
        raise CrevalError(f"--repo {repo!r}: not a Hub repository id (expected NAME or OWNER/NAME): {exc}") from None
    if hub_offline() and to_disk is None:
        raise CrevalError(f"HF_HUB_OFFLINE is set: cannot push to {repo}; --to-disk DIR saves the dataset "
                          "locally (push it later with `datasets.load_from_disk(DIR).push_to_hub(ID)`)")


def leaderboard_dataset(results: Path, manifest_path: Path) -> Any:
    """The leaderboard's rows (``SweepScores.rows``) as a ``datasets.Dataset`` with fixed features."""
    import datasets

    from creval._version import __version__

    scores = read_sweep(results, manifest_path)
    features = datasets.Features({name: datasets.Value(kind) for name, kind in COLUMNS.items()})
    info = datasets.DatasetInfo(features=features,
        description=f"creval {__version__} leaderboard of the sweep {scores.manifest.path.name}: one row per "
        "schedule, checkpoint step, task and statistic (mean over prompts with its 95% interval and signature)")
    return datasets.Dataset.from_list([{c: r[c] for c in COLUMNS} for r in scores.rows()], features=features, info=info)


def publish(dataset: Any, *, repo: str | None = None, to_disk: Path | None = None, private: bool = False) -> dict[str, Any]:
    """Save to ``to_disk`` and/or push to the Hub repository ``repo``. When the Hub is offline
    (HF_HUB_OFFLINE=1) a push is skipped if the dataset was saved to disk, refused otherwise."""
    check_request(repo, to_disk)
    report: dict[str, Any] = {"rows": dataset.num_rows, "saved_to": None, "pushed_to": None, "skipped": None}
    if to_disk is not None:
        if to_disk.exists() and any(to_disk.iterdir()) and not (to_disk / "dataset_info.json").is_file():
            raise CrevalError(f"--to-disk {to_disk}: the folder holds files that are not a saved dataset; "
                              "choose an empty or new folder")
        dataset.save_to_disk(str(to_disk))
        report["saved_to"] = str(to_disk)
    if repo is not None:
        if hub_offline():
            report["skipped"] = f"push to {repo}: HF_HUB_OFFLINE is set"
        else:
            try:
                dataset.push_to_hub(repo, private=private or None)  # None: the Hub's default
            except OSError as exc:  # HTTP errors, no token, no network
                raise CrevalError(f"push to {repo} failed: {exc}") from None
            report["pushed_to"] = repo
    return report
