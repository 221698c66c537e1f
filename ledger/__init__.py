"""fedledger's shared record: chain access, content store, manifests, lineage.

Imports neither torch nor ``node``: everything here can run on a machine that only
audits.
"""
