"""The local target: FlowApps realised on this machine (functions as processes under the
supervisor, the workflow on the runtime, triggers feeding executions)."""
