"""Reaching Ray: start a local one or join a cluster, once per process, with a clear error when the
cluster cannot be reached. Also the per-process helpers every Ray run shares: the events actor that
carries node events back to the driver, and the long-lived device actors that keep models loaded.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

__all__ = ["RayUnavailable", "connect", "shutdown", "events_actor", "device_actors", "warm_workers", "NAMESPACE"]

NAMESPACE = "nodeflow"
_lock = threading.RLock()
_state: dict[str, Any] = {}


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster at the given address cannot be reached."""


def connect(address: str | None = None) -> None:
    """Join the cluster at ``address`` (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``), or start a
    local Ray when there is none (``NODEFLOW_RAY_ADDRESS`` is used when ``address`` is not given).
    Does nothing when this process is already connected."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable("the Ray backend needs Ray: pip install 'nodeflow[ray]'") from None
    with _lock:
        if ray.is_initialized():
            return
        address = address or os.environ.get("NODEFLOW_RAY_ADDRESS") or None
        if address not in (None, "auto", "local"):
            _check_reachable(address)
            if not address.startswith("ray://") and _asks_for_a_token(address):
                raise RayUnavailable(auth_message(address))
        options: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False}
        if address in (None, "local"):
            # "local": a Ray of this process's own, even when RAY_ADDRESS is set or a `ray start`
            # cluster runs on this machine (ray.init() would join those)
            cpus = os.environ.get("NODEFLOW_RAY_CPUS", "")
            options.update(address="local", include_dashboard=False, num_cpus=int(cpus) if cpus.isdigit() else None)
        else:
            options["address"] = address
        try:
            ray.init(**options)
        except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; each becomes one clear message
            if _refused_for_auth(exc):
                raise RayUnavailable(auth_message(address)) from None
            if isinstance(exc, (ConnectionError, RuntimeError, ValueError, TimeoutError)):
                raise RayUnavailable(f"cannot reach the Ray cluster at {address}: {exc}") from None
            raise
        _state.clear()


def auth_message(address: str | None) -> str:
    """What to do when a cluster refuses this driver for authentication (Ray 2.60's token auth)."""
    mode = os.environ.get("RAY_AUTH_MODE", "")
    has_token = bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                     or os.path.exists(os.path.expanduser("~/.ray/auth_token")))
    missing = [] if mode == "token" else [f"RAY_AUTH_MODE=token (it is {mode or 'unset'})"]
    if not has_token:
        missing.append("the cluster's token in RAY_AUTH_TOKEN (or a file named by RAY_AUTH_TOKEN_PATH)")
    need = " and ".join(missing) or "the cluster's own token (the one given here is not it)"
    return (f"the Ray cluster at {address} refused this driver: it asks for token authentication. Run nodeflow "
            f"with {need}, as on every node of the cluster (`ray get-auth-token` on the head prints it)")


def _token_configured() -> bool:
    return os.environ.get("RAY_AUTH_MODE", "").lower() == "token" and bool(
        os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
        or os.path.exists(os.path.expanduser("~/.ray/auth_token")))


def _asks_for_a_token(address: str) -> bool:
    """Whether the cluster's GCS refuses a call without a token while this driver has none set up.
    (Ray itself retries such a refusal for about 20 s, then reports only that it cannot connect.)"""
    if _token_configured():
        return False
    try:
        import grpc
        from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc
    except ImportError:
        return False
    channel = grpc.insecure_channel(address)
    try:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        stub.GetClusterId(gcs_service_pb2.GetClusterIdRequest(), timeout=5)  # type: ignore[attr-defined]
    except grpc.RpcError as exc:
        return exc.code() == grpc.StatusCode.UNAUTHENTICATED
    except Exception:  # noqa: BLE001 - a probe only: ray.init says what else is wrong
        return False
    finally:
        channel.close()
    return False


def _refused_for_auth(exc: BaseException) -> bool:
    try:
        from ray.exceptions import AuthenticationError
    except ImportError:  # an older Ray: no token auth
        return False
    text = str(getattr(exc, "message", "") or exc).lower()
    return isinstance(exc, AuthenticationError) or "unauthenticated" in text or "authentication token" in text


def _check_reachable(address: str) -> None:
    """Fail in seconds, not minutes, when nothing listens at the address."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailable(f"--address {address!r}: expected auto, HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except OSError as exc:
        raise RayUnavailable(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def shutdown() -> None:
    """Disconnect (and stop a local Ray this process started)."""
    import ray

    with _lock:
        _state.clear()
        if ray.is_initialized():
            ray.shutdown()


def events_actor() -> Any:
    """The actor that node events go through on their way to the driver (one per driver)."""
    from .ray_worker import EventBox

    with _lock:
        actor = _state.get("events")
        if actor is None:
            # @ray.remote makes an ActorClass, but Ray's annotations leave the class type as it was
            actor = _state["events"] = EventBox.options(num_cpus=0).remote()  # type: ignore[attr-defined]
        return actor


def device_actors() -> list[Any]:
    """One long-lived actor per device: one per GPU of the cluster (each asks Ray for a GPU), else one
    on the CPU. Model-running nodes go to them, so models stay loaded between runs."""
    import ray

    from .ray_worker import DeviceWorker

    with _lock:
        actors = _state.get("devices")
        if actors is not None:
            return actors
        gpus = int(ray.cluster_resources().get("GPU", 0))
        actors = []
        for index in range(max(1, gpus)):
            options: dict[str, Any] = {"name": f"nodeflow-device-{index}", "get_if_exists": True, "num_cpus": 0,
                                       "max_concurrency": 4}  # a cancel call gets through while a node runs
            if gpus:
                options["num_gpus"] = 1
            # @ray.remote makes an ActorClass, but Ray's annotations leave the class type as it was
            actors.append(DeviceWorker.options(**options).remote())  # type: ignore[attr-defined]
        _state["devices"] = actors
        return actors


def forget_device(index: int) -> None:
    """A device actor died: the next run makes a new one."""
    with _lock:
        _state.pop("devices", None)


WARM_PER_NODE = 8  # worker processes started ahead per node at most


def warm_workers() -> None:
    """Start a worker process per CPU of every node (up to WARM_PER_NODE), each loading the node
    registry, once per driver process and without waiting: a node's first real task then finds a
    worker with every pack imported, where it would pay a second or more for that. (Ray binds
    workers to the driver that started them, so each driver warms its own.)"""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from .ray_worker import warm

    with _lock:
        if "warm" in _state:
            return
        refs = []
        for node in ray.nodes():
            cpus = int(node.get("Resources", {}).get("CPU", 0)) if node.get("Alive") else 0
            for _ in range(min(cpus, WARM_PER_NODE)):
                strategy = NodeAffinitySchedulingStrategy(node["NodeID"], soft=True)
                refs.append(warm.options(num_cpus=1, scheduling_strategy=strategy).remote())
        _state["warm"] = refs  # kept, so nothing waits on them and nothing cancels them
