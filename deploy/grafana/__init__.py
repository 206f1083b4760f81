"""flowapp's Grafana dashboards as code (grafana-foundation-sdk); ``python -m deploy.grafana``
writes them as JSON next to this file."""
