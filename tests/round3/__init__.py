"""The third-round corpus: callbacks written as RL practitioners write them,
correct and defective, each labelled by what training does with it (`ours.py`
against `lerax_callback`, `lerax_family.py` against Lerax's own `lerax.callback`).
`tests/test_round3.py` checks every one."""
