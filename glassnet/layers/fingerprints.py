"""The two string hashes behind Keras's Hashing layer (TensorFlow's ``to_hash_bucket_fast`` and
``to_hash_bucket_strong``), written out in Python so glassnet's bins are Keras's: FarmHash's 64-bit fingerprint
(the "na" variant, ``Fingerprint64``) and SipHash-2-4 keyed by two 64-bit words. Every value is a uint64, so each
sum, product and shift is taken mod 2⁶⁴.
"""

from __future__ import annotations

MASK = (1 << 64) - 1
K0, K1, K2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def word(data: bytes, at: int) -> int:
    """The little-endian uint64 at byte ``at``."""
    return int.from_bytes(data[at:at + 8], "little")


def rotate_right(value: int, shift: int) -> int:
    return value if shift == 0 else ((value >> shift) | (value << (64 - shift))) & MASK


def rotate_left(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & MASK


def shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def mix16(u: int, v: int, mul: int) -> int:
    """Two words to one, Murmur-style: a = ((u ⊕ v)·mul) ⊕ ≫47, b = ((v ⊕ a)·mul) ⊕ ≫47, then b·mul."""
    a = shift_mix(((u ^ v) * mul) & MASK)
    b = shift_mix(((v ^ a) * mul) & MASK)
    return (b * mul) & MASK


def weak_hash32(w: int, x: int, y: int, z: int, a: int, b: int) -> tuple[int, int]:
    """Sixteen bytes of state from four words and two seeds (FarmHash's WeakHashLen32WithSeeds)."""
    a = (a + w) & MASK
    b = rotate_right((b + a + z) & MASK, 21)
    c = a
    a = (a + x + y) & MASK
    b = (b + rotate_right(a, 44)) & MASK
    return (a + z) & MASK, (b + c) & MASK


def weak_hash32_at(data: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    return weak_hash32(word(data, at), word(data, at + 8), word(data, at + 16), word(data, at + 24), a, b)


def hash_0_to_16(data: bytes) -> int:
    n = len(data)
    mul = (K2 + 2 * n) & MASK
    if n >= 8:
        a, b = (word(data, 0) + K2) & MASK, word(data, n - 8)
        c = (rotate_right(b, 37) * mul + a) & MASK
        d = ((rotate_right(a, 25) + b) * mul) & MASK
        return mix16(c, d, mul)
    if n >= 4:
        first, last = int.from_bytes(data[:4], "little"), int.from_bytes(data[n - 4:], "little")
        return mix16((n + (first << 3)) & MASK, last, mul)
    if n > 0:
        y = (data[0] + (data[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (data[n - 1] << 2)) & 0xFFFFFFFF
        return (shift_mix(((y * K2) ^ (z * K0)) & MASK) * K2) & MASK
    return K2


def hash_17_to_32(data: bytes) -> int:
    n = len(data)
    mul = (K2 + 2 * n) & MASK
    a, b = (word(data, 0) * K1) & MASK, word(data, 8)
    c, d = (word(data, n - 8) * mul) & MASK, (word(data, n - 16) * K2) & MASK
    return mix16((rotate_right((a + b) & MASK, 43) + rotate_right(c, 30) + d) & MASK,
                 (a + rotate_right((b + K2) & MASK, 18) + c) & MASK, mul)


def hash_33_to_64(data: bytes) -> int:
    n = len(data)
    mul = (K2 + 2 * n) & MASK
    a, b = (word(data, 0) * K2) & MASK, word(data, 8)
    c, d = (word(data, n - 8) * mul) & MASK, (word(data, n - 16) * K2) & MASK
    y = (rotate_right((a + b) & MASK, 43) + rotate_right(c, 30) + d) & MASK
    z = mix16(y, (a + rotate_right((b + K2) & MASK, 18) + c) & MASK, mul)
    e, f = (word(data, 16) * mul) & MASK, word(data, 24)
    g, h = ((y + word(data, n - 32)) * mul) & MASK, ((z + word(data, n - 24)) * mul) & MASK
    return mix16((rotate_right((e + f) & MASK, 43) + rotate_right(g, 30) + h) & MASK,
                 (e + rotate_right((f + a) & MASK, 18) + g) & MASK, mul)


def fingerprint64(data: bytes) -> int:
    """FarmHash's Fingerprint64 of ``data`` (what TensorFlow's to_hash_bucket_fast reduces mod the bins)."""
    n = len(data)
    if n <= 16:
        return hash_0_to_16(data)
    if n <= 32:
        return hash_17_to_32(data)
    if n <= 64:
        return hash_33_to_64(data)
    x, y = 81, (81 * K1 + 113) & MASK
    z = (shift_mix((y * K2 + 113) & MASK) * K2) & MASK
    v, w = (0, 0), (0, 0)
    x = (x * K2 + word(data, 0)) & MASK
    end, last64 = ((n - 1) // 64) * 64, n - 64
    for s in range(0, end, 64):  # 64 bytes at a time, all but the last 1 to 64
        x = (rotate_right((x + y + v[0] + word(data, s + 8)) & MASK, 37) * K1) & MASK
        y = (rotate_right((y + v[1] + word(data, s + 48)) & MASK, 42) * K1) & MASK
        x ^= w[1]
        y = (y + v[0] + word(data, s + 40)) & MASK
        z = (rotate_right((z + w[0]) & MASK, 33) * K1) & MASK
        v = weak_hash32_at(data, s, (v[1] * K1) & MASK, (x + w[0]) & MASK)
        w = weak_hash32_at(data, s + 32, (z + w[1]) & MASK, (y + word(data, s + 16)) & MASK)
        z, x = x, z
    mul = (K1 + ((z & 0xFF) << 1)) & MASK
    s = last64
    w0 = (w[0] + ((n - 1) & 63)) & MASK
    v0 = (v[0] + w0) & MASK
    w = ((w0 + v0) & MASK, w[1])
    v = (v0, v[1])
    x = (rotate_right((x + y + v[0] + word(data, s + 8)) & MASK, 37) * mul) & MASK
    y = (rotate_right((y + v[1] + word(data, s + 48)) & MASK, 42) * mul) & MASK
    x ^= (w[1] * 9) & MASK
    y = (y + v[0] * 9 + word(data, s + 40)) & MASK
    z = (rotate_right((z + w[0]) & MASK, 33) * mul) & MASK
    v = weak_hash32_at(data, s, (v[1] * mul) & MASK, (x + w[0]) & MASK)
    w = weak_hash32_at(data, s + 32, (z + w[1]) & MASK, (y + word(data, s + 16)) & MASK)
    z, x = x, z
    return mix16((mix16(v[0], w[0], mul) + shift_mix(y) * K0 + z) & MASK,
                 (mix16(v[1], w[1], mul) + x) & MASK, mul)


def siphash24(data: bytes, key0: int, key1: int) -> int:
    """SipHash-2-4 of ``data`` under the key (key0, key1): each 8-byte word, and a last one holding the length in
    its top byte, goes through 2 rounds; 4 rounds finish (what TensorFlow's to_hash_bucket_strong uses)."""
    v = [key0 ^ 0x736F6D6570736575, key1 ^ 0x646F72616E646F6D, key0 ^ 0x6C7967656E657261, key1 ^ 0x7465646279746573]

    def rounds(count: int) -> None:
        for _ in range(count):
            v[0] = (v[0] + v[1]) & MASK
            v[1] = rotate_left(v[1], 13) ^ v[0]
            v[0] = rotate_left(v[0], 32)
            v[2] = (v[2] + v[3]) & MASK
            v[3] = rotate_left(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & MASK
            v[3] = rotate_left(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & MASK
            v[1] = rotate_left(v[1], 17) ^ v[2]
            v[2] = rotate_left(v[2], 32)

    n = len(data)
    tail = n - n % 8
    words = [word(data, i) for i in range(0, tail, 8)]
    words.append(((n & 0xFF) << 56) | int.from_bytes(data[tail:], "little"))
    for m in words:
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
