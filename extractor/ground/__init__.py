"""From the model's draft to supported records: the support rules, then assembly.

``support`` checks every field against its own evidence; ``assemble`` keeps
what holds, normalises it and merges records reported twice. Pure and
deterministic: imports ``text``, ``normalise``, ``read`` and the schemas, never
the model.
"""
