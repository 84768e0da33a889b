"""The deterministic weight formula both fixture scripts use, bit for bit the one the C# tests compute
(Cnn.Tests/Support/DeterministicWeights.cs), so fixtures hold outputs but no weights."""
import math

import numpy as np

MASK32 = 0xFFFFFFFF


def hash_uniform(k, n):
    """u[i] for i in range(n): uint32 hash of (k, i) mapped to float64 in [-1, 1).

    All arithmetic is uint32 and wraps mod 2^32 (numpy uint32 array ops wrap).
    """
    c0 = (k * 0x9E3779B1 + 0x165667B1) & MASK32
    x = np.arange(n, dtype=np.uint32)
    x *= np.uint32(0x85EBCA77)
    x += np.uint32(c0)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x2C1B3C6D)
    x ^= x >> np.uint32(12)
    x *= np.uint32(0x297A2D39)
    x ^= x >> np.uint32(15)
    x >>= np.uint32(8)
    u = x.astype(np.float64)
    del x
    u *= 1.0 / 8388608.0  # exact: power of two
    u -= 1.0
    return u


def deterministic_tensor(k, key, shape):
    """Deterministic value of state_dict tensor number k (0-based, state_dict() order).

    For flat element index i (C order) of the tensor:

        x = (k * 0x9E3779B1 + i * 0x85EBCA77 + 0x165667B1) mod 2^32
        x ^= x >> 15; x = (x * 0x2C1B3C6D) mod 2^32
        x ^= x >> 12; x = (x * 0x297A2D39) mod 2^32
        x ^= x >> 15
        u = (x >> 8) / 2^23 - 1.0          # float64, exactly in [-1, 1)

    Value (computed in float64, cast to float32 at the end, round-to-nearest):

        key ends with "num_batches_tracked"   -> 0 (int64 tensor)
        key ends with "running_var"           -> 0.75 + 0.25*u
        key ends with "running_mean"          -> 0.1*u
        1-D and key ends with "weight"        -> 1.0 + 0.1*u
        1-D and key ends with "bias"          -> 0.05*u
        ndim >= 2                             -> u * sqrt(6.0 / fan_in),
                                                 fan_in = numel / shape[0] (integer),
                                                 6.0/fan_in and sqrt in float64
                                                 (scale computed once per tensor)

    The rules are tested in this order.  Any other tensor is an error.
    The network input uses the same hash with k = 1000000 over the flattened
    [2, 3, 64, 64] input; value = u cast to float32 (exact).
    Returns a numpy array of the given shape (float32, or int64 for
    num_batches_tracked).
    """
    shape = tuple(int(s) for s in shape)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if key.endswith("num_batches_tracked"):
        return np.zeros(shape, dtype=np.int64)
    if n >= 2 ** 32:
        raise ValueError("tensor too large for 32-bit index hash: %s" % key)
    ndim = len(shape)
    if key.endswith("running_var"):
        v = 0.75 + 0.25 * hash_uniform(k, n)
    elif key.endswith("running_mean"):
        v = 0.1 * hash_uniform(k, n)
    elif ndim == 1 and key.endswith("weight"):
        v = 1.0 + 0.1 * hash_uniform(k, n)
    elif ndim == 1 and key.endswith("bias"):
        v = 0.05 * hash_uniform(k, n)
    elif ndim >= 2:
        fan_in = n // shape[0]
        scale = math.sqrt(6.0 / fan_in)
        v = hash_uniform(k, n)
        v *= scale
    else:
        raise ValueError("no rule for tensor %r with shape %r" % (key, shape))
    return v.astype(np.float32).reshape(shape)
