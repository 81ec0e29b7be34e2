"""Cost of deciding the caller's identity per request (access.resolve), against a floor measured in the same run.

Run: .venv/bin/python bench/access_identity.py   (prints medians in microseconds and the ratio to the floor)
The floor is reading one header from the same ASGI scope, the least any identity rule must do.
"""

from __future__ import annotations

import ssl
import statistics
import time

from indikera.access.certs import client_cert_header
from indikera.access.pki import new_ca, new_function_cert, new_root
from indikera.access.resolve import _header, identity_for_scope
from indikera.config import Settings

N, ROUNDS = 2000, 7


def median_us(fn) -> float:
    runs = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(N):
            fn()
        runs.append((time.perf_counter() - start) / N * 1e6)
    return statistics.median(runs)


def main() -> None:
    ca = new_ca(new_root())
    consumer = new_function_cert(ca, hsa_id="SE2321000016-ABCD", common_name="konsument")
    platform = new_function_cert(ca, hsa_id="TSTNTJP0000000-VP01", common_name="plattform")
    settings = Settings(trusted_platform_hsa_ids=("TSTNTJP0000000-VP01",), trusted_proxies=("127.0.0.1",))
    base = {"type": "http", "client": ("127.0.0.1", 5000), "headers": [(b"host", b"x"), (b"user-agent", b"bench")] * 5}
    tls = {**base, "extensions": {"tls": {"client_cert_chain": [ssl.DER_cert_to_PEM_cert(consumer.der)]}}}
    proxy = {**base, "headers": base["headers"] + [(b"client-cert", client_cert_header(platform.der).encode()),
                                                  (b"x-rivta-original-serviceconsumer-hsaid", b"SE2321000016-VIS1")]}
    anonymous = {**base, "client": ("10.0.0.9", 5000)}
    floor = median_us(lambda: _header(base, b"user-agent"))
    print(f"floor (one header lookup)     {floor:8.2f} µs")
    for name, scope in [("direct TLS certificate", tls), ("NTjP via proxy Client-Cert", proxy), ("anonymous", anonymous)]:
        t = median_us(lambda: identity_for_scope(settings, scope))
        print(f"{name:<30}{t:8.2f} µs   ratio {t / floor:6.1f}")


if __name__ == "__main__":
    main()
