"""The engine of one app on a Kubernetes cluster: ``flowapp cluster-engine``.

The FlowApp operator (``flowapp.operator``) renders it as the ``<app>-engine``
Deployment; this package is what runs in each replica: the API over ``ClusterPlatform``,
the runtime on the shared database, functions called at their Knative Services' URLs,
``emit`` published to the Broker, Knative's deliveries accepted on a port of their own,
and the triggers the engine runs itself, elected or deduplicated across replicas.
"""
