"""Vendors (the labs a studio orders from) and how each one receives its orders.

A product names its preferred vendor by name; the vendor record says how orders reach it: by
SFTP (host, port, user, a pinned host key, a remote folder; the password or private key is a
secret), into a local hot folder (an in-house printer's queue, under the configured root
only), by email, or by hand. Credentials are encrypted at rest with `WORKFLOW_SECRETS_KEY`
and never answered back: a vendor says only whether its credentials are set.
"""
