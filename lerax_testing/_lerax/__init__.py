"""Everything the harness knows of Lerax's real algorithms, in one place.

- `_algorithms`: the algorithms of the installed `lerax.algorithm` (PPO alone in
  0.0.5; PPO, A2C, REINFORCE, DQN, SAC, SACDiscrete, DDPG and TD3 in 0.0.6), how
  to build a tiny instance of each, the environment it accepts and its default
  policy.
- `_record`: what each algorithm passes to a callback, recorded from its real
  `learn()` (traced, never compiled): per method the `locals`, the training log's
  keys, the optimiser state, the algorithm object. The checks build their
  contexts from it, so they cannot drift from the Lerax installed.
- `_trees`: recorded values as JSON (the profiles' format) and back.
- `_standin`: without Lerax, recordings made from the newest shipped profiles,
  which stand in for the algorithms a `lerax_callback` callback names.
- `_curriculum`: `apply_curriculum` as the generated-example checks drive it,
  with the recorded algorithm state holding the example's callback state.
- `_notes`: what a report says beside the verdicts (a `continue_training` that
  the algorithms never call).
- `_learn`: the `lerax` check's core: the real `learn()` of each chosen algorithm
  traced with the callback, and a crash turned into the algorithm, the method and
  the user's line.

Imports Lerax only inside functions, so the harness imports without it. May import
`lerax_callback`, `_tree` (states compared as `lax.scan` compares a carry) and
`_engine`'s placeholder for a context value it cannot make.
"""
