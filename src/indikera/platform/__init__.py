"""The connection kit's platform side: a local stand-in for Inera's NTjP (VP routing, TAK authorisation).

tak.py (TAK export, vägval/behörighet lookups) · message.py (what VP reads from a request) · faults.py (VP001–
VP015) · vp.py (the pipeline) · forward.py (VP → producer) · standin.py (the mTLS server) · settings.py ·
environments.py (local/SIT/QA/production) · ordering.py (Beställningsstöd order) · status.py (connection steps)
· certs.py / certs_cli.py (``certs csr``, ``certs check``). See docs/connection.md.
"""
