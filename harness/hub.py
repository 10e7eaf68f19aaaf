"""Is the Hugging Face hub reachable? Checked before a hub call, so that with no network the user gets
the local-copy advice at once instead of after the hub client's retries (30-60 s)."""
from __future__ import annotations

import os


def _offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the hub cannot be reached (no TCP connection to ``HF_ENDPOINT`` within ``timeout``), or None."""
    import socket
    from urllib.parse import urlparse

    endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    url = urlparse(endpoint)
    try:
        port = url.port or (443 if url.scheme == "https" else 80)
        socket.create_connection((url.hostname or "", port), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        return f"no connection to {endpoint}: {getattr(exc, 'strerror', None) or exc}"
    return None


def offline_unless_reachable() -> str | None:
    """When the hub cannot be reached, switch ``datasets`` and the hub client to offline mode for this
    process (a cached copy still loads, a missing one fails at once instead of after retries); the reason."""
    if _offline():
        return "offline mode (HF_HUB_OFFLINE)"
    reason = hub_unreachable()
    if reason:
        import datasets
        import huggingface_hub.constants

        datasets.config.HF_HUB_OFFLINE = True
        huggingface_hub.constants.HF_HUB_OFFLINE = True
    return reason
