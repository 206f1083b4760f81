"""The Kubernetes target: a FlowApp custom resource realised on Knative by an operator.

Pure builders (no I/O; checked by ``.importlinter``) turn a loaded ``FlowApp`` and a
``Target`` into the objects it becomes: ``names`` (names and labels), ``functions``
(Knative Services), ``eventing`` (Broker, sources, Triggers, DeliverySpec), ``listening``
(filters for ``listen``), ``flows`` (Knative Sequence/Parallel, and the choice of mode),
``engine`` (ConfigMap, Deployment, Service), ``render`` (all of it), ``crd`` (the FlowApp
CRD from the resource model), ``images`` (image names and Dockerfiles) and ``manifests``
(the operator's own objects). ``status`` computes conditions from what the cluster shows.

The operator itself (``kopf`` handlers, its API client, metrics) applies what ``render``
returns, owns it, and reports status; ``flowapp k8s`` and ``flowapp operator`` are the
commands. docs/kubernetes.md is the guide.
"""
