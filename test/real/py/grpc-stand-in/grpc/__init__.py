"""A stand-in for grpcio in the real-jobs tier's API servers (test/real/lib/grpc-stand-in.ts).

The real-sky chroot has no grpcio, a dependency of SkyPilot's API server. SkyPilot names
grpc.RpcError, grpc.FutureTimeoutError and grpc.StatusCode in the except clauses and isinstance
checks of its jobs controller and backend; it opens gRPC channels only to clusters whose skylet
serves gRPC, never to a Slurm cluster (CloudVmRayResourceHandle.is_grpc_enabled_with_flag). Without
the module, evaluating such an except clause raises ModuleNotFoundError instead of handling the
error it names, and a job-status check that timed out on a loaded machine (a transient error that
SkyPilot retries) ends the managed job FAILED_CONTROLLER. These names are all a Slurm cluster's
path can reach; anything else is refused loudly, so that a gRPC call would show, not pass.
"""
import enum


class StatusCode(enum.Enum):
    """grpc.StatusCode: (code, name) pairs, as grpcio defines them."""
    OK = (0, 'ok')
    CANCELLED = (1, 'cancelled')
    UNKNOWN = (2, 'unknown')
    INVALID_ARGUMENT = (3, 'invalid argument')
    DEADLINE_EXCEEDED = (4, 'deadline exceeded')
    NOT_FOUND = (5, 'not found')
    ALREADY_EXISTS = (6, 'already exists')
    PERMISSION_DENIED = (7, 'permission denied')
    RESOURCE_EXHAUSTED = (8, 'resource exhausted')
    FAILED_PRECONDITION = (9, 'failed precondition')
    ABORTED = (10, 'aborted')
    OUT_OF_RANGE = (11, 'out of range')
    UNIMPLEMENTED = (12, 'unimplemented')
    INTERNAL = (13, 'internal')
    UNAVAILABLE = (14, 'unavailable')
    DATA_LOSS = (15, 'data loss')
    UNAUTHENTICATED = (16, 'unauthenticated')


class RpcError(Exception):
    """grpc.RpcError: never raised here (no gRPC call is made)."""


class FutureTimeoutError(Exception):
    """grpc.FutureTimeoutError: never raised here (no gRPC call is made)."""


def __getattr__(name):
    raise AttributeError(f'grpc.{name}: the real-jobs tier\'s grpc stand-in has only RpcError, FutureTimeoutError and StatusCode; '
                         'SkyPilot tried a gRPC call, which it never makes to a Slurm cluster')
