"""The trivial function of the step benchmark: returns its input with a counter bumped."""


async def handle(data, context):
    steps = (data or {}).get("steps", 0) if isinstance(data, dict) else 0
    return {"steps": steps + 1}
