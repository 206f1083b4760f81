"""flowapp: a low-code serverless workflow platform for Serverless Workflow 1.0.

Rings, innermost first (checked by import-linter, see ``.importlinter``):

- ``dsl``: text to a typed model, validation with locations, runtime expressions. Pure.
- ``engine``: ``decide(workflow, state, signal, now) -> Decision``. Pure: no I/O, no clock.
- ``store``, ``events``, ``triggers``, ``functions``: adapters to the outside world.
- ``runtime``: the shell that loads state, calls ``decide``, persists, and dispatches commands.
- ``server``, ``cli``: entry points.
"""

__version__ = "0.1.0"
