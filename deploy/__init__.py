"""What operators deploy next to flowapp: Grafana dashboards and Prometheus rules."""
