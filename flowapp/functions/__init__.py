"""Functions: a node's business code, served over HTTP as CloudEvents, and run locally.

The contract any language implements is ``docs/functions.md``. Modules, by role:

- for function authors: ``sdk`` (``Context``, ``FunctionError``);
- the hosts that serve an author's code: ``host`` + ``hostconfig`` + ``loader`` (Python),
  ``node/host.js`` (Node.js); any other language brings its own server (``command``);
- the wire format shared by both sides: ``wire`` (CloudEvents SDK + a JSON data codec);
- calling functions: ``port`` (the ``FunctionCaller`` protocol the runtime depends on),
  ``client`` (one HTTP call), ``errors`` (why a call has no output), ``testing`` (an
  in-process fake);
- running them on one machine: ``supervisor`` (facade) over ``pool`` (routing,
  autoscaling, restarts), ``scaling`` (pure decisions), ``instance`` (one process),
  ``launch`` + ``build`` (command lines, dependencies), ``spec`` (``FunctionSpec``),
  ``logs``, ``metrics``, ``watch`` (reload on change).

Nothing is re-exported here: a function process imports ``flowapp.functions.host`` and
``sdk`` only, and must not pay for the supervisor's imports at start-up.
"""
