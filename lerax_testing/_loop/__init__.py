"""The reference training loop (`run_training`): a jitted loop that calls a callback
exactly as Lerax's algorithms do, with the toy environment and policy or the
user's own, and the environment/policy protocol it needs (`_protocol`, importable
without JAX).

May import `lerax_callback`, `lerax_testing.toy`, `_engine` (contexts), `_tree` and
the check registry (which checks run the loop; no JAX).
"""
