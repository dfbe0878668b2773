"""The pipeline's states, one module each, so a function imports only what its state needs.

Each step takes the execution's state (pointers and small summaries, never data) and returns
its own piece, which the state machine stores under the step's name.
"""
