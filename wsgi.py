"""The WSGI entry point: `granian --interface wsgi wsgi:app`, `flask --app wsgi ...`."""

import gc

from cpa_network.app import create_app

app = create_app()
# What importing and building the app allocated (about 160,000 objects) lives as long as the
# process. Left in the cyclic collector's care, each full collection walks all of it: 100-170 ms
# here, with every thread of the worker stopped, which showed as a 150-330 ms p99 in
# bench/postbacks.py. Frozen, they are never walked again.
gc.freeze()
